import { LOOPBACK_APPROVED } from "./test-destinations";
import { NO_DESTINATIONS, type DestinationGrant } from "./destinations";
import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpSandbox, startHttpSandbox } from "../sandbox/http-sandbox";
import type { ConnectorContext, SafetyPolicy } from "../types";
import { createSafeHttp, hostMatches, parseRetryAfter } from "./http";
import { makePolicy } from "./policy";

let sb: HttpSandbox;
let n = 0;
const SECRET = "s3cr3t-token-value";

function ctx(policy: Partial<SafetyPolicy> = {}, secret: Record<string, string> = { token: SECRET }, destinations: DestinationGrant = LOOPBACK_APPROVED): ConnectorContext {
  return {
    connectionId: `safe-http-${++n}`,
    sourceType: "github",
    resourceIds: ["acme"],
    config: {},
    secret,
    policy: makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 2_000, maxResponseBytes: 64 * 1024, ...policy }),
    destinations,
  };
}

type Hit = { method: string; url: string; authorization?: string };
async function startServer(handler: (req: http.IncomingMessage, res: http.ServerResponse, hits: Hit[]) => void) {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    hits.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
    handler(req, res, hits);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

beforeAll(async () => {
  sb = await startHttpSandbox({ slowMs: 1_500, hugeBytes: 2 * 1024 * 1024 });
});
afterAll(async () => {
  await sb.close();
});

const auth = () => ({ Authorization: `Bearer ${sb.token}` });

describe("Safe Mode HTTP: refused before anything leaves the process", () => {
  it("refuses DELETE, PUT, PATCH and a POST the catalog does not mark as a read query", async () => {
    const client = createSafeHttp({ retries: 0 });
    sb.resetLog();
    for (const method of ["DELETE", "PUT", "PATCH", "POST", "OPTIONS", "delete"]) {
      const r = await client.fetch(ctx(), { method, url: `${sb.urlFor("github")}/user`, headers: auth(), body: "{}" });
      expect(r).toMatchObject({ ok: false, error: { kind: "safe_mode" } });
    }
    expect(sb.count()).toBe(0);
    // the same POST, marked as a read query, does go out: the refusal above was the guard, not the network
    const marked = await client.fetch(ctx(), { method: "POST", url: `${sb.urlFor("github")}/user`, headers: auth(), body: "{}", readOnlyQuery: { kind: "rpc" } });
    expect(marked.ok).toBe(true);
    expect(sb.count({ method: "POST" })).toBe(1);
  });

  it("refuses a GraphQL mutation or a SQL write even on a read-query endpoint", async () => {
    const client = createSafeHttp({ retries: 0 });
    sb.resetLog();
    const url = `${sb.urlFor("github")}/graphql`;
    const mutation = await client.fetch(ctx(), {
      method: "POST",
      url,
      headers: auth(),
      body: JSON.stringify({ query: "mutation { deleteRepository(input: {id: 1}) { clientMutationId } }" }),
      readOnlyQuery: { kind: "graphql" },
    });
    expect(mutation).toMatchObject({ ok: false, error: { kind: "safe_mode" } });
    // a GraphQL document smuggled into an endpoint marked as plain RPC is checked too
    const smuggled = await client.fetch(ctx(), { method: "POST", url, headers: auth(), body: JSON.stringify({ query: "subscription { x }" }), readOnlyQuery: { kind: "rpc" } });
    expect(smuggled).toMatchObject({ ok: false, error: { kind: "safe_mode" } });
    const sql = await client.fetch(ctx(), {
      method: "POST",
      url,
      headers: auth(),
      body: JSON.stringify({ statement: "DELETE FROM accounts" }),
      readOnlyQuery: { kind: "sql", field: "statement" },
    });
    expect(sql).toMatchObject({ ok: false, error: { kind: "safe_mode" } });
    expect(sb.count()).toBe(0);
  });

  it("refuses the cloud metadata address always, and loopback unless private networks are allowed", async () => {
    const client = createSafeHttp({ retries: 0 });
    sb.resetLog();
    // even when an admin approved the whole link-local range, the metadata address stays refused
    const linkLocal: DestinationGrant = { ...LOOPBACK_APPROVED, hosts: [{ pattern: "169.254.0.0/16", ports: [], sourceTypes: [], origin: "approved" }] };
    for (const grant of [LOOPBACK_APPROVED, linkLocal]) {
      const r = await client.fetch(ctx({}, undefined, grant), { method: "GET", url: "http://169.254.169.254/latest/meta-data/" });
      expect(r.ok).toBe(false);
      expect(["egress_refused", "not_approved"]).toContain(r.ok ? "" : r.error.kind);
    }
    const loop = await client.fetch(ctx({}, undefined, NO_DESTINATIONS), { method: "GET", url: `${sb.urlFor("github")}/user`, headers: auth() });
    expect(loop).toMatchObject({ ok: false, error: { kind: "not_approved" } });
    // a vendor host of the catalog that resolves to loopback is DNS rebinding: refused
    const rebind = await client.fetch(ctx({}, undefined, { ...NO_DESTINATIONS, catalogHosts: ["localhost"] }), { method: "GET", url: `http://localhost:${new URL(sb.urlFor("github")).port}/user`, headers: auth() });
    expect(rebind).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    expect(sb.count()).toBe(0);
  });

  it("refuses non-http schemes, credentials in URLs and hosts outside the connector's allowed hosts", async () => {
    const client = createSafeHttp({ retries: 0 });
    sb.resetLog();
    expect(await client.fetch(ctx(), { method: "GET", url: "file:///etc/passwd" })).toMatchObject({ ok: false, error: { kind: "safe_mode" } });
    expect(await client.fetch(ctx(), { method: "GET", url: "ftp://example.com/x" })).toMatchObject({ ok: false, error: { kind: "safe_mode" } });
    const userinfo = sb.baseUrl.replace("http://", "http://u:p@");
    expect(await client.fetch(ctx(), { method: "GET", url: `${userinfo}/github/user` })).toMatchObject({ ok: false, error: { kind: "safe_mode" } });
    const outside = await client.fetch(ctx(), { method: "GET", url: `${sb.urlFor("github")}/user`, allowedHosts: ["api.github.com"] });
    expect(outside).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    expect(sb.count()).toBe(0);
  });

  it("enforces the per-connection rate cap", async () => {
    const client = createSafeHttp({ retries: 0, maxRateWaitMs: 50 });
    const c = ctx({ ratePerMinute: 1 });
    expect((await client.fetch(c, { method: "GET", url: `${sb.urlFor("github")}/user`, headers: auth() })).ok).toBe(true);
    const second = await client.fetch(c, { method: "GET", url: `${sb.urlFor("github")}/user`, headers: auth() });
    expect(second).toMatchObject({ ok: false, error: { kind: "rate_limited" } });
    expect(second.ok || second.error.message).toMatch(/rate cap/);
  });
});

describe("Safe Mode HTTP: typed failures", () => {
  it("maps 401 to auth and never echoes the secret", async () => {
    const client = createSafeHttp({ retries: 0 });
    const r = await client.fetch(ctx(), { method: "GET", url: `${sb.urlFor("github")}/user?access_token=${SECRET}`, headers: { Authorization: `Bearer ${SECRET}` } });
    expect(r).toMatchObject({ ok: false, error: { kind: "auth" } });
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it("maps an unreachable port to network", async () => {
    const s = await startServer((_q, res) => res.end());
    const url = s.url;
    await s.close();
    const r = await createSafeHttp({ retries: 0 }).fetch(ctx(), { method: "GET", url: `${url}/x` });
    expect(r).toMatchObject({ ok: false, error: { kind: "network" } });
  });

  it("maps a server slower than the timeout to timeout", async () => {
    sb.setMode("jira", "slow");
    try {
      const r = await createSafeHttp({ retries: 0 }).fetch(ctx({ requestTimeoutMs: 200 }), { method: "GET", url: `${sb.urlFor("jira")}/rest/api/3/myself`, headers: auth() });
      expect(r).toMatchObject({ ok: false, error: { kind: "timeout" } });
    } finally {
      sb.setMode("jira", "ok");
    }
  });

  it("aborts a streamed body past maxResponseBytes (too_large)", async () => {
    sb.setMode("zendesk", "huge");
    try {
      const r = await createSafeHttp({ retries: 0 }).fetch(ctx({ maxResponseBytes: 64 * 1024 }), { method: "GET", url: `${sb.urlFor("zendesk")}/tickets.json`, headers: auth() });
      expect(r).toMatchObject({ ok: false, error: { kind: "too_large" } });
    } finally {
      sb.setMode("zendesk", "ok");
    }
  });

  it("caps the decompressed size too (a gzip bomb is too_large)", async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(4 * 1024 * 1024));
    const s = await startServer((_q, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": String(bomb.length) });
      res.end(bomb);
    });
    try {
      expect(bomb.length).toBeLessThan(64 * 1024);
      const r = await createSafeHttp({ retries: 0 }).fetch(ctx({ maxResponseBytes: 64 * 1024 }), { method: "GET", url: `${s.url}/x` });
      expect(r).toMatchObject({ ok: false, error: { kind: "too_large" } });
    } finally {
      await s.close();
    }
  });

  it("decodes a gzip body within the cap", async () => {
    const s = await startServer((_q, res) => {
      const z = zlib.gzipSync(JSON.stringify({ hello: "world" }));
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(z);
    });
    try {
      const r = await createSafeHttp({ retries: 0 }).fetch(ctx(), { method: "GET", url: `${s.url}/x` });
      expect(r.ok && r.value.json()).toEqual({ hello: "world" });
    } finally {
      await s.close();
    }
  });
});

describe("Safe Mode HTTP: retries and the circuit breaker", () => {
  it("honours Retry-After, then succeeds", async () => {
    const s = await startServer((_q, res, hits) => {
      if (hits.length === 1) {
        res.writeHead(429, { "retry-after": "1" });
        return res.end();
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    try {
      const t0 = performance.now();
      const r = await createSafeHttp({ retries: 2, initialDelayMs: 1 }).fetch(ctx(), { method: "GET", url: `${s.url}/x` });
      expect(r.ok).toBe(true);
      expect(s.hits).toHaveLength(2);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(900); // waited what the server asked, not the 1 ms backoff
    } finally {
      await s.close();
    }
  });

  it("gives up as rate_limited after its retries, and at once when Retry-After is beyond the cap", async () => {
    const s = await startServer((q, res) => {
      res.writeHead(429, { "retry-after": q.url === "/long" ? "120" : "0" });
      res.end();
    });
    try {
      const client = createSafeHttp({ retries: 2, initialDelayMs: 1, maxRetryAfterMs: 5_000, breakerThreshold: 100 });
      const r = await client.fetch(ctx(), { method: "GET", url: `${s.url}/short` });
      expect(r).toMatchObject({ ok: false, error: { kind: "rate_limited" } });
      expect(s.hits.filter((h) => h.url === "/short")).toHaveLength(3);
      const long = await client.fetch(ctx(), { method: "GET", url: `${s.url}/long` });
      expect(long).toMatchObject({ ok: false, error: { kind: "rate_limited" } });
      expect(s.hits.filter((h) => h.url === "/long")).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it("opens the breaker on a 429 storm, fails fast, then half-opens after the cool-down and recovers", async () => {
    const client = createSafeHttp({ retries: 0, breakerThreshold: 3, breakerHalfOpenAfterMs: 200 });
    const url = `${sb.urlFor("slack")}/auth.test`;
    const host = new URL(url).host;
    sb.setMode("slack", "rate_limited");
    try {
      sb.resetLog();
      for (let i = 0; i < 3; i++) {
        expect(await client.fetch(ctx(), { method: "GET", url, headers: auth() })).toMatchObject({ ok: false, error: { kind: "rate_limited" } });
      }
      expect(sb.count({ vendor: "slack" })).toBe(3);
      expect(client.breakerState(host)).toBe("open");
      const fast = await client.fetch(ctx(), { method: "GET", url, headers: auth() });
      expect(fast).toMatchObject({ ok: false, error: { kind: "rate_limited" } });
      expect(fast.ok || fast.error.message).toMatch(/circuit open/);
      expect(sb.count({ vendor: "slack" })).toBe(3); // failed fast: nothing reached the source
    } finally {
      sb.setMode("slack", "ok");
    }
    await new Promise((r) => setTimeout(r, 350));
    const recovered = await client.fetch(ctx(), { method: "GET", url, headers: auth() });
    expect(recovered.ok).toBe(true);
    expect(client.breakerState(host)).toBe("closed");
  });
});

describe("Safe Mode HTTP: the circuit breaker is per organisation", () => {
  it("one tenant's 429 storm opens the breaker for its own connections only: another tenant's request still reaches the host", async () => {
    const client = createSafeHttp({ retries: 0, breakerThreshold: 3, breakerHalfOpenAfterMs: 60_000 });
    const url = `${sb.urlFor("slack")}/auth.test`;
    const host = new URL(url).host;
    const as = (tenantId: string) => ({ ...ctx(), tenantId });
    sb.setMode("slack", "rate_limited");
    try {
      sb.resetLog();
      for (let i = 0; i < 3; i++) await client.fetch(as("tenant-a"), { method: "GET", url, headers: auth() });
      expect(client.breakerState(host, "tenant-a")).toBe("open");
      expect(client.breakerState(host, "tenant-b")).toBe("closed");
    } finally {
      sb.setMode("slack", "ok");
    }
    // tenant A fails fast, nothing sent; tenant B is served
    const a = await client.fetch(as("tenant-a"), { method: "GET", url, headers: auth() });
    expect(a.ok || a.error.message).toMatch(/circuit open/);
    expect(sb.count({ vendor: "slack" })).toBe(3);
    expect((await client.fetch(as("tenant-b"), { method: "GET", url, headers: auth() })).ok).toBe(true);
    expect(sb.count({ vendor: "slack" })).toBe(4);
  });
});

describe("Safe Mode HTTP: redirects", () => {
  it("follows up to 3 redirects, refuses a 4th, and re-checks egress on every hop", async () => {
    const s = await startServer((q, res) => {
      const m = /^\/hop\/(\d+)$/.exec(q.url ?? "");
      if (m && Number(m[1]) > 0) {
        res.writeHead(302, { location: `/hop/${Number(m[1]) - 1}` });
        return res.end();
      }
      if (q.url === "/to-metadata") {
        res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" });
        return res.end();
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"arrived":true}');
    });
    try {
      const client = createSafeHttp({ retries: 0 });
      const three = await client.fetch(ctx(), { method: "GET", url: `${s.url}/hop/3` });
      expect(three.ok && three.value.json()).toEqual({ arrived: true });
      const four = await client.fetch(ctx(), { method: "GET", url: `${s.url}/hop/4` });
      expect(four).toMatchObject({ ok: false, error: { kind: "other" } });
      expect(four.ok || four.error.message).toMatch(/redirects/);
      const meta = await client.fetch(ctx(), { method: "GET", url: `${s.url}/to-metadata` });
      expect(meta).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    } finally {
      await s.close();
    }
  });

  it("drops credentials on a redirect to another origin", async () => {
    const target = await startServer((_q, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    const origin = await startServer((q, res) => {
      res.writeHead(302, { location: q.url === "/same" ? "/landed" : `${target.url}/landed` });
      res.end();
    });
    try {
      const client = createSafeHttp({ retries: 0 });
      const headers = { Authorization: `Bearer ${SECRET}`, "X-Api-Key": SECRET };
      expect((await client.fetch(ctx(), { method: "GET", url: `${origin.url}/cross`, headers })).ok).toBe(true);
      expect(target.hits[0]!.authorization).toBeUndefined();
      expect((await client.fetch(ctx(), { method: "GET", url: `${origin.url}/same`, headers })).ok).toBe(true);
      expect(origin.hits.find((h) => h.url === "/landed")?.authorization).toBe(`Bearer ${SECRET}`);
    } finally {
      await target.close();
      await origin.close();
    }
  });
});

describe("helpers", () => {
  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
  it("matches host patterns", () => {
    expect(hostMatches(new URL("https://acme.zendesk.com/x"), ["*.zendesk.com"])).toBe(true);
    expect(hostMatches(new URL("https://zendesk.com/x"), ["*.zendesk.com"])).toBe(false);
    expect(hostMatches(new URL("https://evilzendesk.com/x"), ["*.zendesk.com"])).toBe(false);
    expect(hostMatches(new URL("http://127.0.0.1:8080/x"), ["127.0.0.1:8080"])).toBe(true);
    expect(hostMatches(new URL("http://127.0.0.1:8081/x"), ["127.0.0.1:8080"])).toBe(false);
  });
});

describe("Safe Mode HTTP: breakers are bounded per host (LRU)", () => {
  it("keeps the breaker of a host in use and drops the least recently used one past the cap", async () => {
    const s = await startServer((_req, res) => {
      res.writeHead(503).end("down");
    });
    try {
      const client = createSafeHttp({ retries: 0, breakerThreshold: 1, breakerHalfOpenAfterMs: 60_000, maxBreakers: 2 });
      const a = new URL(s.url).host;
      await client.fetch(ctx(), { method: "GET", url: `${s.url}/x` });
      expect(client.breakerState(a)).toBe("open");
      // other hosts (refused by egress, still given a breaker): the one in use survives
      await client.fetch(ctx(), { method: "GET", url: "http://b.invalid/" });
      await client.fetch(ctx(), { method: "GET", url: `${s.url}/x` }); // touches a (fails fast)
      await client.fetch(ctx(), { method: "GET", url: "http://c.invalid/" }); // evicts b, not a
      expect(client.breakerState(a)).toBe("open");
      await client.fetch(ctx(), { method: "GET", url: "http://d.invalid/" });
      await client.fetch(ctx(), { method: "GET", url: "http://e.invalid/" });
      expect(client.breakerState(a)).toBe("closed"); // evicted, never a wipe of all
    } finally {
      await s.close();
    }
  });
});

describe("Safe Mode HTTP: nothing outlives a request (issue 11 item 6)", () => {
  it("leaves no listener on the attempt's signal and no pending timer after answers, errors and timeouts", async () => {
    const attempt = new AbortController();
    let added = 0;
    let removed = 0;
    const add = attempt.signal.addEventListener.bind(attempt.signal);
    const remove = attempt.signal.removeEventListener.bind(attempt.signal);
    attempt.signal.addEventListener = ((...a: Parameters<typeof add>) => (added++, add(...a))) as typeof add;
    attempt.signal.removeEventListener = ((...a: Parameters<typeof remove>) => (removed++, remove(...a))) as typeof remove;
    const srv = await startServer((req, res) => {
      if (req.url === "/slow") return void setTimeout(() => res.end("{}"), 400);
      if (req.url === "/fail") return void res.writeHead(500).end("{}");
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
    try {
      const client = createSafeHttp({ retries: 0 });
      const c = { ...ctx({ requestTimeoutMs: 150 }), signal: attempt.signal };
      for (let i = 0; i < 20; i++) expect((await client.fetch(c, { method: "GET", url: `${srv.url}/ok` })).ok).toBe(true);
      await client.fetch(c, { method: "GET", url: `${srv.url}/fail` });
      expect(await client.fetch(c, { method: "GET", url: `${srv.url}/slow` })).toMatchObject({ ok: false, error: { kind: "timeout" } });
      expect(added).toBeGreaterThanOrEqual(22);
      expect(removed).toBe(added);
      // the attempt's signal still reaches a request that is running
      const running = client.fetch(c, { method: "GET", url: `${srv.url}/slow` });
      attempt.abort();
      expect(await running).toMatchObject({ ok: false, error: { kind: "timeout", message: expect.stringContaining("cancelled") } });
    } finally {
      await srv.close();
    }
  });
});
