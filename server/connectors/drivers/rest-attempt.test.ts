/**
 * The REST driver's attempt session (openAttempt, issue 13 item 2): one attempt sends the health
 * request, one page per stream and the named-resource lookups — discovery's first pages are read
 * at the sample's share and kept, so the sample does not read them again — and its schema and
 * records are the standalone calls' own. Counted at the HTTP sandbox; the vendor descriptions'
 * stand-ins check every request the attempt sends (the resized first pages included).
 */
import { ANY_AUTH_SECRET, exampleConfigOf } from "../catalog/test-entry-context";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { err } from "../../lib/result";
import { CATALOG } from "../catalog";
import { contractSourceTypes } from "../catalog/contracts";
import { isKnownGap } from "../catalog/contracts/known-gaps";
import type { CatalogEntry } from "../catalog/schema";
import { type SafeHttp, createSafeHttp } from "../safe-mode/http";
import { makePolicy } from "../safe-mode/policy";
import { LOOPBACK_APPROVED } from "../safe-mode/test-destinations";
import { type HttpSandbox, type SandboxVendor, startHttpSandbox } from "../sandbox/http-sandbox";
import { type SpecStandin, startSpecStandin } from "../sandbox/spec-standin";
import type { ConnectorContext, DiscoveredSchema, SafetyPolicy, SourceAdapter } from "../types";
import { createRestDriver } from "./rest";

let sb: HttpSandbox;
let n = 0;
const safe = createSafeHttp({ retries: 0 });
const driver = createRestDriver(safe);

type Fixture = { sourceType: string; vendor: SandboxVendor; config?: Record<string, unknown>; streams: string[]; firstStreamPath: string; lookups: number };
const FIXTURES: Fixture[] = [
  { sourceType: "github", vendor: "github", config: { org: "acme" }, streams: ["repos", "members"], firstStreamPath: "/orgs/acme/repos", lookups: 1 },
  { sourceType: "slack", vendor: "slack", streams: ["conversations", "users"], firstStreamPath: "/conversations.list", lookups: 0 },
  { sourceType: "jira", vendor: "jira", config: { site: "acme.atlassian.net" }, streams: ["projects", "issues"], firstStreamPath: "/rest/api/3/project/search", lookups: 0 },
  { sourceType: "zendesk", vendor: "zendesk", config: { subdomain: "acme" }, streams: ["tickets", "users"], firstStreamPath: "/tickets.json", lookups: 0 },
];
const github = FIXTURES[0]!;
const slack = FIXTURES[1]!;

function ctx(f: Fixture, over: { policy?: Partial<SafetyPolicy>; resourceIds?: string[] } = {}): ConnectorContext {
  return {
    connectionId: `rest-attempt-${++n}`,
    sourceType: f.sourceType,
    resourceIds: over.resourceIds ?? [],
    config: { base_url: sb.urlFor(f.vendor), ...(f.config ?? {}) },
    secret: { token: sb.token },
    policy: { ...makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 2_000, maxResponseBytes: 256 * 1024 }), ...(over.policy ?? {}) },
    destinations: LOOPBACK_APPROVED,
  };
}

const one = (name: string): DiscoveredSchema => ({ streams: [{ name, fields: [] }] });

/** health → discover → sample through one attempt session, as the pipeline runs it */
async function viaAttempt(a: SourceAdapter, c: ConnectorContext, sampleSchema?: DiscoveredSchema) {
  const opened = await a.openAttempt!(c);
  if (!opened.ok) throw new Error(opened.error.message);
  const s = opened.value;
  try {
    const health = await s.healthCheck();
    const schema = await s.discover();
    const sample = schema.ok ? await s.sample(sampleSchema ?? schema.value) : undefined;
    return { health, schema, sample };
  } finally {
    await s.close();
  }
}

/** the same stages through the standalone calls */
async function standalone(a: SourceAdapter, c: ConnectorContext, sampleSchema?: DiscoveredSchema) {
  const health = await a.healthCheck(c);
  const schema = await a.discover(c);
  const sample = schema.ok ? await a.sample(c, sampleSchema ?? schema.value) : undefined;
  return { health, schema, sample };
}

const perStream = (recs: { stream: string }[]) => recs.reduce<Record<string, number>>((m, r) => ({ ...m, [r.stream]: (m[r.stream] ?? 0) + 1 }), {});
const sent = () => sb.requests.map((r) => `${r.method} ${r.path}?${new URLSearchParams(r.query).toString()}`);

beforeAll(async () => {
  sb = await startHttpSandbox();
});
afterAll(async () => {
  await sb.close();
});

describe.each(FIXTURES)("REST attempt session: $sourceType", (f) => {
  it("sends the health request, one page per stream and the lookups; schema and records are the standalone path's", async () => {
    sb.resetLog();
    const a = await viaAttempt(driver, ctx(f));
    expect(a.health).toMatchObject({ ok: true });
    expect(sb.count({ vendor: f.vendor })).toBe(1 + f.streams.length + f.lookups);
    expect(new Set(sent()).size, sent().join("\n")).toBe(sb.requests.length); // nothing read twice

    sb.resetLog();
    const s = await standalone(driver, ctx(f));
    // the standalone path: health, an inference page per stream, the lookups, then the sample's page per stream
    expect(sb.count({ vendor: f.vendor })).toBe(1 + 2 * f.streams.length + f.lookups);

    expect(a.schema).toEqual(s.schema);
    if (!a.sample?.ok || !s.sample?.ok) throw new Error("sample failed");
    expect(a.sample.value).toHaveLength(20);
    expect(a.sample.value).toEqual(s.sample.value);
    expect(perStream(a.sample.value)).toEqual(Object.fromEntries(f.streams.map((x) => [x, 10])));
  });

  it("a sample that needs more than the kept page reads on from its cursor, never page one again", async () => {
    sb.resetLog();
    const a = await viaAttempt(driver, ctx(f), one(f.streams[0]!));
    // the sandbox serves 10 a page: the kept first page and the one after it
    expect(sb.count({ vendor: f.vendor, pathIncludes: f.firstStreamPath })).toBe(2);
    expect(sb.count({ vendor: f.vendor })).toBe(1 + f.streams.length + f.lookups + 1);
    expect(new Set(sent()).size, sent().join("\n")).toBe(sb.requests.length);

    const s = await driver.sample(ctx(f), one(f.streams[0]!));
    if (!a.sample?.ok || !s.ok) throw new Error("sample failed");
    expect(a.sample.value).toHaveLength(20);
    expect(a.sample.value).toEqual(s.value);
    expect(new Set(a.sample.value.map((r) => JSON.stringify(r.data))).size).toBe(20);
  });

  it.each([1, 3, 7, 13])("keeps the standalone spread and cap with a budget of %i records, in one page per stream", async (maxRecords) => {
    sb.resetLog();
    const a = await viaAttempt(driver, ctx(f, { policy: { maxRecords } }));
    expect(sb.count({ vendor: f.vendor })).toBe(1 + f.streams.length + f.lookups);
    const s = await standalone(driver, ctx(f, { policy: { maxRecords } }));
    expect(a.schema).toEqual(s.schema);
    if (!a.sample?.ok || !s.sample?.ok) throw new Error("sample failed");
    expect(a.sample.value).toHaveLength(maxRecords);
    expect(a.sample.value).toEqual(s.sample.value);
  });
});

describe("REST attempt session: pages, failures, the session", () => {
  it("asks each first page for the sample's share (at least the inference sample), within the stream's page-size limit", async () => {
    sb.resetLog();
    await viaAttempt(driver, ctx(github));
    expect(sb.requests.filter((r) => r.path.includes("/orgs/acme/")).map((r) => [r.path, r.query.per_page])).toEqual([
      ["/github/orgs/acme/repos", "10"],
      ["/github/orgs/acme/members", "10"],
    ]);
    sb.resetLog();
    await viaAttempt(driver, ctx(github, { policy: { maxRecords: 4 } }));
    expect(sb.requests.filter((r) => r.path.includes("/orgs/acme/") && r.path !== "/github/orgs/acme").map((r) => r.query.per_page)).toEqual(["5", "5"]);
    // a declared page-size limit below the share holds (an entry with maxPageSize 3)
    const small: CatalogEntry = { ...CATALOG.github!, streams: CATALOG.github!.streams.map((s) => ({ ...s, maxPageSize: 3 })) };
    const capped = createRestDriver(safe, () => small);
    sb.resetLog();
    const a = await viaAttempt(capped, ctx(github));
    expect(sb.requests.filter((r) => r.path.includes("/orgs/acme/")).every((r) => Number(r.query.per_page) <= 3)).toBe(true);
    const s = await standalone(capped, ctx(github));
    expect(a.schema).toEqual(s.schema);
    expect(a.sample).toEqual(s.sample);
  });

  it("sends the lookups beside the streams' first pages, not after them: the same requests, fewer round trips", async () => {
    let inFlight = 0;
    let most = 0;
    const counting: SafeHttp = {
      breakerState: (h) => safe.breakerState(h),
      fetch: async (c, req) => {
        most = Math.max(most, ++inFlight);
        try {
          return await safe.fetch(c, req);
        } finally {
          inFlight--;
        }
      },
    };
    sb.resetLog();
    const a = await viaAttempt(createRestDriver(counting), ctx(github, { resourceIds: ["widgets"] }));
    // the org (config.org) and the intent's repository name are looked up while the repos page is read
    expect(most).toBeGreaterThanOrEqual(3);
    expect(sb.count({ vendor: "github" })).toBe(1 + github.streams.length + 2);
    expect(a.schema.ok && a.schema.value.resources).toEqual([
      { id: "widgets", kind: expect.any(String), found: true },
      { id: "acme", kind: expect.any(String), found: true },
    ]);
    const s = await standalone(driver, ctx(github, { resourceIds: ["widgets"] }));
    expect(a.schema).toEqual(s.schema);
    expect(a.sample).toEqual(s.sample);
  });

  it("a lookup still in flight when discovery fails is cancelled when the session closes", async () => {
    let lookupSignal: AbortSignal | undefined;
    let cancelled = false;
    const failing: SafeHttp = {
      breakerState: (h) => safe.breakerState(h),
      fetch: async (c, req) => {
        const path = new URL(req.url).pathname;
        if (path.endsWith("/orgs/acme")) {
          // a lookup that answers only when cancelled
          lookupSignal = c.signal;
          if (!c.signal) return err({ kind: "other", message: "no signal to cancel it with" });
          return new Promise((resolve) => c.signal!.addEventListener("abort", () => ((cancelled = true), resolve(err({ kind: "timeout", message: "cancelled" }))), { once: true }));
        }
        if (path.endsWith("/repos")) return err({ kind: "network", message: "connection reset" });
        return safe.fetch(c, req);
      },
    };
    const opened = await createRestDriver(failing).openAttempt!(ctx(github));
    if (!opened.ok) throw new Error(opened.error.message);
    expect((await opened.value.healthCheck()).ok).toBe(true);
    expect(await opened.value.discover()).toMatchObject({ ok: false, error: { kind: "network" } });
    expect(lookupSignal).toBeDefined();
    expect(cancelled).toBe(false);
    await opened.value.close();
    expect(cancelled).toBe(true);
  });

  it("a stream that fails in discovery does not sink the others; the sample reads on from the kept page of the one left", async () => {
    const refusing: SafeHttp = {
      breakerState: (h) => safe.breakerState(h),
      fetch: async (c, req) => (new URL(req.url).pathname.endsWith("/members") ? err({ kind: "auth", message: "HTTP 403 from the vendor" }) : safe.fetch(c, req)),
    };
    const d = createRestDriver(refusing);
    sb.resetLog();
    const a = await viaAttempt(d, ctx(github));
    expect(a.schema.ok && a.schema.value.streams.map((s) => s.name)).toEqual(["repos"]);
    if (!a.sample?.ok) throw new Error("sample failed");
    expect(a.sample.value).toHaveLength(20);
    // health first, then repos page 1 (kept) beside the org lookup, then repos page 2
    const paths = sent().map((x) => x.replace(/\?.*/, ""));
    expect(paths[0]).toBe("GET /github/user");
    expect([...paths].sort()).toEqual(["GET /github/orgs/acme", "GET /github/orgs/acme/repos", "GET /github/orgs/acme/repos", "GET /github/user"]);
    const s = await standalone(d, ctx(github));
    expect(a.schema).toEqual(s.schema);
    expect(a.sample).toEqual(s.sample);
  });

  it.each([
    ["30 monitors", 30],
    ["2 monitors (a short stream: the later ones get its unused share)", 2],
  ])("page numbers line up when a server capping pages at 4 makes the sample read on (Datadog, page_number; %s)", async (_, monitors) => {
    // a Datadog stand-in in SafeHttp's place: page `n` of a capped size holds records n*4 … n*4+3
    const log: string[] = [];
    const data: Record<string, number> = { "/api/v1/monitor": monitors, "/api/v2/users": 30, "/api/v1/dashboard": 3 };
    const fake: SafeHttp = {
      breakerState: () => "closed",
      async fetch(_c, req) {
        const u = new URL(req.url);
        log.push(`${u.pathname}${u.search}`);
        const answer = (body: unknown) => {
          const text = JSON.stringify(body);
          return { ok: true as const, value: { status: 200, url: req.url, headers: { "content-type": "application/json" }, body: Buffer.from(text), text: () => text, json: () => JSON.parse(text) } };
        };
        if (u.pathname === "/api/v1/validate") return answer({ valid: true });
        const total = data[u.pathname] ?? 0;
        if (u.pathname === "/api/v1/dashboard") return answer({ dashboards: Array.from({ length: total }, (_, i) => ({ id: `d${i}`, title: `Dashboard ${i}` })) });
        const v2 = u.pathname === "/api/v2/users";
        const size = Math.min(4, Number(u.searchParams.get(v2 ? "page[size]" : "page_size") ?? 100));
        const page = Number(u.searchParams.get(v2 ? "page[number]" : "page") ?? 0);
        const items = Array.from({ length: Math.max(0, Math.min(size, total - page * size)) }, (_, i) => ({ id: page * size + i, name: `item ${page * size + i}` }));
        return answer(v2 ? { data: items } : items);
      },
    };
    const d = createRestDriver(fake);
    const dd = (): ConnectorContext => ({ ...ctx(github), sourceType: "datadog", config: { base_url: "https://api.datadoghq.com" }, secret: { api_key: "k-123", application_key: "app-123" } });
    const a = await viaAttempt(d, dd());
    const attempt = log.splice(0);
    const s = await standalone(d, dd());
    const alone = log.splice(0);
    expect(a.schema).toEqual(s.schema);
    if (!a.sample?.ok || !s.sample?.ok) throw new Error("sample failed");
    expect(a.sample.value).toEqual(s.sample.value);
    expect(a.sample.value).toHaveLength(monitors === 30 ? 7 + 7 + 3 : 2 + 9 + 3);
    expect(new Set(attempt).size, attempt.join("\n")).toBe(attempt.length); // no page read twice
    expect(attempt.length).toBeLessThan(alone.length);
    // the first pages at the sample's share: 7, 7, (none for dashboards); with 2 monitors the users take 9
    const firstPages = attempt.map((x) => new URL(x, "https://api.datadoghq.com").searchParams).filter((q) => (q.get("page") ?? q.get("page[number]")) === "0");
    expect(firstPages.map((q) => q.get("page_size") ?? q.get("page[size]"))).toEqual(monitors === 30 ? ["7", "7"] : ["7", "9"]);
  });

  it("checks a named resource against the attempt's own health answer (no second health request)", async () => {
    const c = () => ctx(slack, { resourceIds: ["T0SANDBOX", "T0OTHER"] });
    sb.resetLog();
    const a = await viaAttempt(driver, c());
    expect(sb.count({ vendor: "slack", pathIncludes: "/auth.test" })).toBe(1);
    expect(sb.count({ vendor: "slack" })).toBe(3);
    const s = await standalone(driver, c());
    expect(a.schema).toEqual(s.schema);
    expect(a.schema.ok && a.schema.value.resources?.map((r) => [r.id, r.found])).toEqual([
      ["T0SANDBOX", true],
      ["T0OTHER", false],
    ]);
  });

  it("a failed health check stays the vendor identity check; a closed session sends nothing", async () => {
    const opened = await driver.openAttempt!({ ...ctx(github), secret: { token: "wrong-token-123" } });
    if (!opened.ok) throw new Error(opened.error.message);
    expect(await opened.value.healthCheck()).toMatchObject({ ok: false, error: { kind: "auth" } });
    await opened.value.close();

    const o = await driver.openAttempt!(ctx(github));
    if (!o.ok) throw new Error(o.error.message);
    await o.value.close();
    await o.value.close(); // idempotent
    sb.resetLog();
    expect(await o.value.healthCheck()).toMatchObject({ ok: false });
    expect(await o.value.discover()).toMatchObject({ ok: false });
    expect(await o.value.sample(one("repos"))).toMatchObject({ ok: false });
    expect(sb.count()).toBe(0);
  });

  it("opening fails as the standalone health check does, before any request", async () => {
    sb.resetLog();
    expect(await driver.openAttempt!({ ...ctx(github), sourceType: "postgres" })).toMatchObject({ ok: false, error: { kind: "unsupported" } });
    const c = ctx(github);
    c.config = { base_url: "sandbox:github", org: "acme" };
    expect(await driver.openAttempt!(c)).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    expect(sb.count()).toBe(0);
  });

  it("a sample with no streams uses what the attempt discovered", async () => {
    const opened = await driver.openAttempt!(ctx(github));
    if (!opened.ok) throw new Error(opened.error.message);
    try {
      const d = await opened.value.discover();
      sb.resetLog();
      const s = await opened.value.sample({ streams: [] });
      expect(d.ok).toBe(true);
      expect(s.ok && s.value.length).toBe(20);
      expect(sb.count()).toBe(0);
    } finally {
      await opened.value.close();
    }
  });
});

// ---------------------------------------------------------------- the vendors' descriptions

const SECRET = ANY_AUTH_SECRET;
const configOf = exampleConfigOf;
let standins: SpecStandin[] = [];
afterEach(async () => {
  await Promise.all(standins.map((s) => s.close()));
  standins = [];
});

describe.each(contractSourceTypes().filter((t) => CATALOG[t]?.driver === "rest"))("REST attempt session against the description of %s", (sourceType) => {
  it("sends only operations of the description, and gives the standalone path's schema and records", async () => {
    const e = CATALOG[sourceType]!;
    const config = configOf(e);
    const tolerate = (message: string) => isKnownGap({ sourceType, check: "request", message });
    const runs = [];
    for (const how of [viaAttempt, standalone]) {
      const st = await startSpecStandin({ entry: e, config, tolerate, records: 4 });
      standins.push(st);
      const c: ConnectorContext = {
        connectionId: `standin-attempt-${sourceType}`,
        sourceType,
        resourceIds: e.namedResources?.lookup && e.namedResources.configFields.length === 0 ? ["standin-resource"] : [],
        config: { ...config, base_url: st.baseUrl },
        secret: SECRET,
        policy: makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 5_000 }),
        destinations: LOOPBACK_APPROVED,
      };
      const r = await how(driver, c);
      expect(r.health, `${sourceType}: ${st.violations.join(" | ")}`).toMatchObject({ ok: true });
      if (!r.schema.ok || !r.sample?.ok) throw new Error(`${sourceType}: ${JSON.stringify(r)}; stand-in: ${st.violations.join(" | ")}`);
      expect(st.violations.filter((m) => !isKnownGap({ sourceType, check: "response", message: m }))).toEqual([]);
      expect(st.exchanges.filter((x) => !x.op || x.status >= 300).map((x) => `${x.method} ${x.path} ${x.status}`)).toEqual([]);
      runs.push({ schema: r.schema.value, sample: r.sample.value, requests: st.exchanges.length });
    }
    const [a, s] = runs;
    expect(a!.schema).toEqual(s!.schema);
    expect(a!.sample.length).toBe(s!.sample.length);
    expect(perStream(a!.sample)).toEqual(perStream(s!.sample));
    expect(a!.requests).toBeLessThanOrEqual(s!.requests);
  });
});
