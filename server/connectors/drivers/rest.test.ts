/**
 * Acceptance fixtures for the declarative REST driver (STYLE.md rule 8, after Airbyte's
 * acceptance-test-config): against the HTTP sandbox, a valid config passes check/discover/read and
 * an invalid token fails as auth. The catalog entries are used unchanged; only config.base_url
 * points at the sandbox.
 */
import { LOOPBACK_APPROVED } from "../safe-mode/test-destinations";
import { NO_DESTINATIONS, type DestinationGrant } from "../safe-mode/destinations";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAwsRequest } from "../safe-mode/aws-sigv4";
import { type HttpSandbox, type SandboxVendor, startHttpSandbox } from "../sandbox/http-sandbox";
import { createSafeHttp } from "../safe-mode/http";
import { makePolicy } from "../safe-mode/policy";
import type { ConnectorContext, DiscoveredSchema, SafetyPolicy } from "../types";
import { createRestDriver, inferFields, nextLink, restDriver } from "./rest";

let sb: HttpSandbox;
let n = 0;
const fast = createRestDriver(createSafeHttp({ retries: 0 }));

const FIXTURES: { sourceType: string; vendor: SandboxVendor; config?: Record<string, unknown>; streams: string[]; firstStreamPath: string }[] = [
  { sourceType: "slack", vendor: "slack", streams: ["conversations", "users"], firstStreamPath: "/conversations.list" },
  { sourceType: "github", vendor: "github", config: { org: "acme" }, streams: ["repos", "members"], firstStreamPath: "/orgs/acme/repos" },
  { sourceType: "jira", vendor: "jira", config: { site: "acme.atlassian.net" }, streams: ["projects", "issues"], firstStreamPath: "/rest/api/3/project/search" },
  { sourceType: "zendesk", vendor: "zendesk", config: { subdomain: "acme" }, streams: ["tickets", "users"], firstStreamPath: "/tickets.json" },
];

function ctx(f: (typeof FIXTURES)[number], over: { token?: string; policy?: Partial<SafetyPolicy>; config?: Record<string, unknown>; destinations?: DestinationGrant } = {}): ConnectorContext {
  return {
    connectionId: `rest-${++n}`,
    sourceType: f.sourceType,
    resourceIds: [],
    config: { base_url: sb.urlFor(f.vendor), ...(f.config ?? {}), ...(over.config ?? {}) },
    secret: { token: over.token ?? sb.token },
    policy: makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 2_000, maxResponseBytes: 256 * 1024, ...(over.policy ?? {}) }),
    destinations: over.destinations ?? LOOPBACK_APPROVED,
  };
}

const one = (name: string): DiscoveredSchema => ({ streams: [{ name, fields: [] }] });

beforeAll(async () => {
  sb = await startHttpSandbox({ slowMs: 1_500 });
});
afterAll(async () => {
  await sb.close();
});

describe.each(FIXTURES)("REST driver acceptance: $sourceType", (f) => {
  it("passes health, discovery (metadata only) and a capped sample with a valid token", async () => {
    const c = ctx(f);
    const h = await restDriver.healthCheck(c);
    expect(h).toMatchObject({ ok: true });

    sb.resetLog();
    const d = await restDriver.discover(c);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value.streams.map((s) => s.name)).toEqual(f.streams);
    for (const s of d.value.streams) {
      expect(s.fields.length).toBeGreaterThan(2);
      for (const field of s.fields) expect(Object.keys(field).sort()).toEqual(expect.arrayContaining(["name", "type"]));
    }
    // discovery reads at most a small first page per stream and returns names and types, never values
    expect(JSON.stringify(d.value)).not.toMatch(/example\.com|Ticket 1|channel-1|repo-1|Project 1/);
    // one request per stream, plus the lookup of each named resource the entry looks up (GitHub's org)
    expect(sb.count({ vendor: f.vendor })).toBe(f.streams.length + (f.sourceType === "github" ? 1 : 0));

    const s = await restDriver.sample(c, d.value);
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    expect(s.value).toHaveLength(20);
    expect(new Set(s.value.map((r) => r.stream))).toEqual(new Set(f.streams));
  });

  it("fails as auth with a wrong token", async () => {
    const c = ctx(f, { token: "wrong-token-123" });
    expect(await fast.healthCheck(c)).toMatchObject({ ok: false, error: { kind: "auth" } });
    expect(await fast.discover(c)).toMatchObject({ ok: false, error: { kind: "auth" } });
    expect(JSON.stringify(await fast.healthCheck(c))).not.toContain("wrong-token-123");
  });

  it("follows pagination only as far as the 20-record budget needs, even when 50 are asked", async () => {
    const c = ctx(f);
    c.policy = { ...c.policy, maxRecords: 50 }; // bypassing makePolicy's clamp on purpose
    sb.resetLog();
    const s = await restDriver.sample(c, one(f.streams[0]!));
    expect(s.ok && s.value.length).toBe(20);
    // the sandbox serves 35 records, 10 per page: exactly two pages, never the third
    expect(sb.count({ vendor: f.vendor, pathIncludes: f.firstStreamPath })).toBe(2);
    const ids = s.ok ? s.value.map((r) => JSON.stringify(r.data)) : [];
    expect(new Set(ids).size).toBe(20); // pages did not overlap
  });
});

describe("REST driver: budgets, failures and Safe Mode", () => {
  const slack = FIXTURES[0]!;
  const github = FIXTURES[1]!;

  it("reads one page when the budget fits in it", async () => {
    sb.resetLog();
    const s = await restDriver.sample(ctx(github, { policy: { maxRecords: 5 } }), one("repos"));
    expect(s.ok && s.value.length).toBe(5);
    expect(sb.count({ vendor: "github", pathIncludes: "/repos" })).toBe(1);
    expect(sb.requests.at(-1)?.query.per_page).toBe("5");
  });

  it("maps Slack's 200 ok:false invalid_auth to auth", async () => {
    const r = await fast.healthCheck(ctx(slack, { token: "xoxb-wrong" }));
    expect(r).toMatchObject({ ok: false, error: { kind: "auth", message: expect.stringContaining("invalid_auth") } });
  });

  it("maps an unreachable port to network, a slow source to timeout, a huge body to too_large, a 429 to rate_limited, a 500 to other", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await fast.healthCheck(ctx(github, { config: { base_url: `http://127.0.0.1:${port}/github` } }))).toMatchObject({ ok: false, error: { kind: "network" } });

    const cases: [string, string][] = [
      ["slow", "timeout"],
      ["huge", "too_large"],
      ["rate_limited", "rate_limited"],
      ["error", "other"],
    ];
    for (const [mode, kind] of cases) {
      sb.setMode("zendesk", mode as "slow");
      try {
        const r = await fast.sample(ctx(FIXTURES[3]!, { policy: { requestTimeoutMs: 300, maxResponseBytes: 64 * 1024 } }), one("tickets"));
        expect(r, mode).toMatchObject({ ok: false, error: { kind } });
      } finally {
        sb.setMode("zendesk", "ok");
      }
    }
  });

  it("refuses a config.base_url the tenant did not approve, before any request (the grant decides, not the intent)", async () => {
    sb.resetLog();
    const r = await fast.healthCheck(ctx(github, { destinations: NO_DESTINATIONS }));
    expect(r).toMatchObject({ ok: false, error: { kind: "not_approved", message: expect.stringContaining("Destination not approved: 127.0.0.1:") } });
    expect(sb.count()).toBe(0);
  });

  it("refuses an unexpanded sandbox reference in words when the sandboxes are not running, without a request", async () => {
    sb.resetLog();
    const r = await fast.healthCheck(ctx(github, { config: { base_url: "sandbox:github", org: "acme" } }));
    expect(r).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining('refers to the sandbox "github"') } });
    expect(sb.count()).toBe(0);
  });

  it("reports a missing configuration variable by name", async () => {
    const c = ctx(github);
    delete c.config.org;
    const r = await fast.discover(c);
    expect(r).toMatchObject({ ok: false, error: { message: expect.stringContaining("config.org") } });
  });

  it("reports unsupported for a source type it does not serve", async () => {
    expect(await fast.healthCheck({ ...ctx(github), sourceType: "postgres" })).toMatchObject({ ok: false, error: { kind: "unsupported" } });
    expect(await fast.healthCheck({ ...ctx(github), sourceType: "nope" })).toMatchObject({ ok: false, error: { kind: "unsupported" } });
  });

  it("drives a read-only POST stream with a body cursor and a continue endpoint (Dropbox)", async () => {
    const seen: { path: string; method: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ path: req.url ?? "", method: req.method ?? "", body });
        const b = body ? JSON.parse(body) : {};
        const start = req.url === "/2/files/list_folder/continue" ? Number(b.cursor) : 0;
        const limit = Math.min(b.limit ?? 8, 8); // this fake caps pages at 8
        const entries = Array.from({ length: Math.min(limit, 30 - start) }, (_, i) => ({ ".tag": "file", id: `id:${start + i}`, name: `f${start + i}.txt`, size: 10 }));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ entries, cursor: String(start + entries.length), has_more: start + entries.length < 30 }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/2`;
    try {
      const c: ConnectorContext = { ...ctx(slack), sourceType: "dropbox", config: { base_url: base } };
      const s = await fast.sample(c, one("files"));
      expect(s.ok && s.value.length).toBe(20);
      // the first page asks for the whole budget; the rest comes from /continue with the cursor alone
      expect(seen.map((x) => `${x.method} ${x.path}`)).toEqual(["POST /2/files/list_folder", "POST /2/files/list_folder/continue", "POST /2/files/list_folder/continue"]);
      expect(JSON.parse(seen[0]!.body)).toEqual({ path: "", recursive: false, include_deleted: false, limit: 20 });
      expect(seen.slice(1).map((x) => JSON.parse(x.body))).toEqual([{ cursor: "8" }, { cursor: "16" }]);
      // a PUT never leaves, whatever the entry says
      expect(seen.every((x) => x.method === "POST")).toBe(true);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("signs AWS requests (SigV4): a local Organizations stand-in that checks every signature serves health, discovery and sample", async () => {
    const creds = { access_key_id: "AKIAEXAMPLEKEY", secret_access_key: "sigv4-test-secret-0123456789abcdefghijk" };
    const accounts = Array.from({ length: 45 }, (_, i) => ({ Id: String(100000000000 + i), Name: `account-${i}`, Status: "ACTIVE" }));
    const seen: { target: string; valid: boolean }[] = [];
    // JSON 1.1 protocol as documented: POST / with X-Amz-Target; the stand-in recomputes the signature
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const target = String(req.headers["x-amz-target"] ?? "");
        const amzDate = String(req.headers["x-amz-date"] ?? "");
        const date = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
        const signedNames = /SignedHeaders=([^,]+)/.exec(String(req.headers.authorization ?? ""))?.[1]?.split(";") ?? [];
        const headers = Object.fromEntries(signedNames.filter((n) => n !== "host" && n !== "x-amz-date").map((n) => [n, String(req.headers[n] ?? "")]));
        const expected = await signAwsRequest({ method: req.method!, url: `http://${req.headers.host}${req.url}`, headers, body }, { accessKeyId: creds.access_key_id, secretAccessKey: creds.secret_access_key }, "us-east-1", "organizations", date);
        const valid = expected.authorization === req.headers.authorization;
        seen.push({ target, valid });
        res.setHeader("content-type", "application/x-amz-json-1.1");
        if (!valid) return res.writeHead(403).end(JSON.stringify({ __type: "InvalidSignatureException", message: "The request signature we calculated does not match" }));
        if (target.endsWith(".DescribeOrganization")) return res.end(JSON.stringify({ Organization: { Id: "o-exampleorgid", FeatureSet: "ALL" } }));
        const { NextToken, MaxResults } = JSON.parse(body || "{}") as { NextToken?: string; MaxResults?: number };
        const from = Number(NextToken ?? 0);
        const page = accounts.slice(from, from + (MaxResults ?? 20));
        res.end(JSON.stringify({ Accounts: page, ...(from + page.length < accounts.length ? { NextToken: String(from + page.length) } : {}) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const aws: ConnectorContext = { ...ctx(github), sourceType: "aws_org", secret: creds, config: { base_url: base, region: "us-east-1" } };
      expect(await fast.healthCheck(aws)).toMatchObject({ ok: true });
      const schema = await fast.discover(aws);
      if (!schema.ok) throw new Error(schema.error.message);
      expect(schema.value.streams[0]!.fields.map((f) => f.name)).toEqual(["Id", "Name", "Status"]);
      const sample = await fast.sample({ ...aws, policy: { ...aws.policy, maxRecords: 50 } }, schema.value);
      expect(sample.ok && sample.value.length).toBe(20);
      expect(seen.length).toBeGreaterThanOrEqual(3);
      expect(seen.every((x) => x.valid)).toBe(true);
      // a wrong secret is refused by the server as an auth failure, and the secret never shows
      const bad = await fast.healthCheck({ ...aws, secret: { ...creds, secret_access_key: "wrong-secret-0123456789abcdefghijklmnop" } });
      expect(bad).toMatchObject({ ok: false, error: { kind: "auth" } });
      if (!bad.ok) expect(bad.error.message).not.toContain("wrong-secret");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("REST driver helpers", () => {
  it("infers names, types and nullability without keeping values", () => {
    expect(inferFields([{ id: 1, at: "2024-01-01T00:00:00Z", x: null }, { id: 2.5, at: "2024-01-02T00:00:00Z", y: true }])).toEqual([
      { name: "id", type: "number" },
      { name: "at", type: "datetime" },
      { name: "x", type: "string", nullable: true },
      { name: "y", type: "boolean", nullable: true },
    ]);
  });
  it("parses Link headers", () => {
    expect(nextLink('<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=4>; rel="last"')).toBe("https://api.github.com/x?page=2");
    expect(nextLink('<https://a/x?page=1>; rel="prev"')).toBeUndefined();
  });
});

describe("pagination stays where the first page was", () => {
  it("a next link to another origin (another customer's Okta org, by the wildcard) ends the stream: never requested, the credential not re-attached", async () => {
    const asked: string[] = [];
    const page = (url: string, link?: string) => {
      const body = Buffer.from(JSON.stringify([{ id: `u${asked.length}`, status: "ACTIVE", profile: { login: "a@acme.test" } }]));
      return { ok: true as const, value: { status: 200, url, headers: link ? { link } : {}, body, text: () => body.toString(), json: () => JSON.parse(body.toString()) as unknown } };
    };
    const stub = {
      fetch: async (_ctx: ConnectorContext, req: { url: string }) => {
        asked.push(req.url);
        const u = new URL(req.url);
        if (u.searchParams.get("after") === "2") return page(req.url);
        // the first page links to another org; the second (same org) to a third
        return u.searchParams.has("after") ? page(req.url, `<https://acme.okta.com/api/v1/users?after=2>; rel="next"`) : page(req.url, `<https://evil.okta.com/api/v1/users?after=1>; rel="next"`);
      },
    };
    const driver = createRestDriver(stub as never);
    const c: ConnectorContext = {
      connectionId: "okta-pages",
      sourceType: "okta",
      resourceIds: [],
      config: { domain: "acme.okta.com" },
      secret: { token: "SSWS-SECRET" },
      policy: makePolicy({ ratePerMinute: 60_000 }),
      destinations: NO_DESTINATIONS,
    };
    const r = await driver.readStream(c, "users", 5);
    expect(r.ok).toBe(true);
    expect(asked.map((u) => new URL(u).host)).toEqual(["acme.okta.com"]);
  });
});
