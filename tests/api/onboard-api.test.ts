/**
 * AOD's REST API through the real route handlers, the real queue and worker, on a database of
 * its own: auth, validation (nothing written for a bad body), status codes, idempotency under
 * 50 concurrent posts, the batch endpoint, rate limits, OpenAPI, and one funnel across
 * REST, tRPC and the exec-summary CLI.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../server/auth/api-keys";
import type { Db } from "../../server/db/client";
import { childEnv, resetEnvForTests } from "../../server/env";
import { type ApiHarness, startApiHarness } from "../helpers/api-harness";
import { testEnv } from "../helpers/env";

const root = path.resolve(import.meta.dirname, "../..");
const KEY = "aam_apitests_0123456789abcdefghijklmnop";
let h: ApiHarness;
let db: Db;
let tenantId: string;

const ONBOARD = "/api/connections/onboard";
const intent = (over: Record<string, unknown> = {}) => ({
  source_type: "salesforce",
  resource_ids: ["org_00D5g000004ApiA"],
  scopes_mode: "safe_readonly",
  credential_locator: "env:AAM_SECRET_API_HARNESS",
  namespace: "autonomy",
  risk_level: "low",
  evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
  owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
  ...over,
});

// every answer below is checked against /api/openapi.json by the harness (h.call)
const post = (url: string, body: unknown, headers: Record<string, string> = {}, raw = false) => h.post(url, body, headers, raw);
const get = (url: string, key = KEY) => h.get(url, key);
const onboard = (req: Request) => h.call("post", ONBOARD, h.routes.onboard.POST(req));
const batch = (req: Request) => h.call("post", `${ONBOARD}/batch`, h.routes.batch.POST(req));
const funnel = (req: Request) => h.call("get", "/api/metrics/funnel", h.routes.funnel.GET(req));
const connection = (req: Request, id: string) => h.call("get", "/api/connections/{id}", h.routes.connection.GET(req, { params: Promise.resolve({ id }) }));
const countRows = () => h.countRows();

beforeAll(async () => {
  h = await startApiHarness({ ratePerMinute: 100_000, records: 12, key: KEY });
  db = h.db;
  tenantId = h.tenantId;
});

afterAll(async () => h?.close());

describe("POST /api/connections/onboard", () => {
  it("refuses a missing or wrong API key with 401", async () => {
    const r1 = await onboard(post(ONBOARD, intent(), { authorization: "" }));
    expect(r1.status).toBe(401);
    const r2 = await onboard(post(ONBOARD, intent(), { authorization: `Bearer ${generateApiKey().key}` }));
    expect(r2.status).toBe(401);
    expect(r2.body.error.code).toBe("UNAUTHENTICATED");
  });

  it("answers bad bodies with 4xx, field paths, and writes nothing", async () => {
    const before = await countRows();
    const cases: [Request, number, string, string?][] = [
      [post(ONBOARD, "{not json", {}, true), 400, "MALFORMED_JSON"],
      [post(ONBOARD, intent(), { "content-type": "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE"],
      [post(ONBOARD, intent({ resource_ids: "org_1" })), 422, "VALIDATION_FAILED", "resource_ids"],
      [post(ONBOARD, intent({ owner: { user: "x", confidence: 7, why: "y" } })), 422, "VALIDATION_FAILED", "owner.confidence"],
      [post(ONBOARD, intent({ surprise: true })), 422, "VALIDATION_FAILED", "(body)"],
      [post(ONBOARD, intent({ resource_ids: Array.from({ length: 101 }, (_, i) => `r${i}`) })), 422, "VALIDATION_FAILED", "resource_ids"],
      [post(ONBOARD, `{"source_type":"salesforce","resource_ids":["\\ud800"]}`, {}, true), 422, "VALIDATION_FAILED", "resource_ids.0"],
      [post(ONBOARD, intent({ credential_locator: "env:X\u0000" })), 422, "VALIDATION_FAILED", "credential_locator"],
      [post(ONBOARD, intent({ scopes_mode: "full_access" })), 422, "VALIDATION_FAILED", "scopes_mode"],
      [post(ONBOARD, intent({ config: { password: "hunter2" } })), 422, "VALIDATION_FAILED", "config.password"],
      [post(ONBOARD, intent({ resource_ids: ["x".repeat(300 * 1024)] })), 413, "PAYLOAD_TOO_LARGE"],
    ];
    for (const [req, status, code, pathName] of cases) {
      const { status: got, body } = await onboard(req);
      expect({ status: got, code: body.error?.code }).toEqual({ status, code });
      if (pathName) expect(body.error.issues.map((i: { path: string }) => i.path)).toContain(pathName);
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
    }
    expect(await countRows()).toBe(before);
  });

  it("refuses the demo namespace with 403 and leaves demo rows byte-identical", async () => {
    const snapshot = async () => JSON.stringify(await db.connection.findMany({ where: { tenantId, namespace: "demo" }, orderBy: { id: "asc" } }));
    const before = await snapshot();
    const res = await onboard(post(ONBOARD, intent({ namespace: "demo", source_type: "salesforce", resource_ids: ["org_00D5g000004DemoA"] })));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("NAMESPACE_READ_ONLY");
    expect(await snapshot()).toBe(before);
  });

  it("answers 409 UNSUPPORTED for an unknown source type, and counts it", async () => {
    const res = await onboard(post(ONBOARD, intent({ source_type: "friendster", resource_ids: ["u1"] })));
    expect(res.status).toBe(409);
    const body = res.body;
    expect(body.error.code).toBe("UNSUPPORTED");
    expect(body.error.connection_id).toMatch(/^[0-9a-f-]{36}$/);
    const f = (await funnel(get("/api/metrics/funnel?namespace=autonomy"))).body;
    expect(f.unsupported_type).toBeGreaterThanOrEqual(1);
  });

  it("onboards within the time budget through the queue and answers the seed's result shape", async () => {
    const res = await onboard(post(ONBOARD, intent({ resource_ids: ["org_sync"] })));
    expect(res.status).toBe(200);
    const body = res.body;
    expect(Object.keys(body)).toEqual(["connection_id", "status", "namespace", "first_sync_rows", "latency_ms", "funnel_stage", "message"]);
    expect(body).toMatchObject({ status: "ACTIVE", namespace: "autonomy", first_sync_rows: 12, funnel_stage: "active", message: "Onboarded successfully in Safe Mode" });
  });

  it("answers 202 with a status URL for ?async=1, and the status URL reaches ACTIVE", async () => {
    const res = await onboard(post(`${ONBOARD}?async=1`, intent({ resource_ids: ["org_async"] })));
    expect(res.status).toBe(202);
    const body = res.body;
    expect(body.status).toBe("PENDING");
    expect(body.status_url).toBe(`/api/connections/${body.connection_id}`);
    let view: { status: string; events: unknown[] } = { status: "PENDING", events: [] };
    for (let i = 0; i < 100 && view.status === "PENDING"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = (await connection(get(body.status_url), body.connection_id)).body;
    }
    expect(view.status).toBe("ACTIVE");
    expect(view.events.length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(view)).not.toContain("api-harness-token-value");
  });

  it("50 concurrent identical posts yield one connection and one count", async () => {
    const one = intent({ resource_ids: ["org_concurrent", "org_concurrent_2"] });
    const bodies = (await Promise.all(Array.from({ length: 50 }, () => onboard(post(ONBOARD, one))))).map((r) => r.body);
    expect(new Set(bodies.map((b) => b.connection_id)).size).toBe(1);
    expect(await db.connection.count({ where: { tenantId, resourceIds: { equals: ["org_concurrent", "org_concurrent_2"] } } })).toBe(1);
  });

  it("404 for another tenant's or an unknown connection", async () => {
    const other = await db.tenant.create({ data: { slug: "other-api", name: "Other" } });
    const otherKey = await h.newKey(other.id);
    const mine = await db.connection.findFirstOrThrow({ where: { tenantId, namespace: "autonomy" } });
    expect((await connection(get(`/api/connections/${mine.id}`, otherKey), mine.id)).status).toBe(404);
    expect((await connection(get(`/api/connections/${mine.id}`), mine.id)).status).toBe(200);
  });
});

describe("POST /api/connections/onboard/batch", () => {
  it("accepts the valid items and reports the invalid ones by index", async () => {
    const items = [intent({ resource_ids: ["b1"] }), intent({ resource_ids: [] }), intent({ resource_ids: ["b2"] }), { nope: 1 }, intent({ resource_ids: ["b3"], namespace: "demo" }), intent({ resource_ids: ["b1", "b1"] })];
    const res = await batch(post(`${ONBOARD}/batch`, { intents: items }));
    expect(res.status).toBe(202);
    const body = res.body;
    expect(body.accepted).toBe(3);
    expect(body.rejected).toBe(3);
    // the same source twice in one batch is one connection
    expect(body.items[5].connection_id).toBe(body.items[0].connection_id);
    expect(body.items[1].error.issues[0].path).toBe("resource_ids");
    expect(body.items[4].error.code).toBe("NAMESPACE_READ_ONLY");
    expect(body.items[0].status_url).toMatch(/^\/api\/connections\//);
  });

  it("refuses more than 1,000 intents with 413 and writes nothing", async () => {
    const before = await countRows();
    const res = await batch(post(`${ONBOARD}/batch`, { intents: Array.from({ length: 1001 }, (_, i) => intent({ resource_ids: [`big${i}`] })) }));
    expect(res.status).toBe(413);
    expect(await countRows()).toBe(before);
  });
});

describe("rate limit", () => {
  it("answers 429 with Retry-After when a key exceeds its rate", async () => {
    const k = await h.newKey();
    testEnv.API_RATE_PER_MINUTE = "3";
    resetEnvForTests();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await funnel(get("/api/metrics/funnel", k))).status);
    testEnv.API_RATE_PER_MINUTE = "100000";
    resetEnvForTests();
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe("one funnel everywhere", () => {
  it("GET /api/metrics/funnel, the tRPC query and `npm run exec-summary` print the same numbers", async () => {
    // the earlier tests' queued attempts finish first, so that the three reads see one state
    for (let i = 0; i < 200 && (await db.connection.count({ where: { tenantId, status: "PENDING" } })) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    const rest = (await funnel(get("/api/metrics/funnel?namespace=autonomy"))).body;
    const { appRouter } = await import("../../server/trpc/router");
    const caller = appRouter.createCaller({ db, session: { user: { id: "x", role: "exec", tenantId, email: "e@api.test" }, expires: new Date(Date.now() + 60_000).toISOString() } });
    const viaTrpc = await caller.funnel.get({ namespace: "autonomy" });
    const cli = spawnSync(process.execPath, ["--import", "tsx", "scripts/exec-summary.ts", "--json"], { cwd: root, env: childEnv({ DATABASE_URL: h.databaseUrl, NODE_OPTIONS: undefined }), encoding: "utf8" });
    expect(cli.status).toBe(0);
    const viaCli = JSON.parse(cli.stdout);
    expect(viaTrpc).toEqual(rest);
    expect(viaCli).toEqual(rest);
    expect(rest.received).toBe(rest.eligible + rest.unsupported_type + rest.not_sanctioned);
    expect(rest.coverage).toBe(Math.round((rest.active / rest.eligible) * 10_000) / 10_000);
    const text = spawnSync(process.execPath, ["--import", "tsx", "scripts/exec-summary.ts"], { cwd: root, env: childEnv({ DATABASE_URL: h.databaseUrl, NODE_OPTIONS: undefined }), encoding: "utf8" });
    expect(text.stdout).toContain(`${rest.active} are ACTIVE`);
    expect(text.stdout).toContain(`${(rest.coverage * 100).toFixed(1)}%`);
  });

  it("an exec cannot reach admin procedures", async () => {
    const { appRouter } = await import("../../server/trpc/router");
    const caller = appRouter.createCaller({ db, session: null });
    await expect(caller.funnel.get({ namespace: "autonomy" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});

describe("GET /api/openapi.json", () => {
  it("is an OpenAPI 3.1 document generated from the zod schemas", async () => {
    const doc = (await h.call("get", "/api/openapi.json", h.routes.openapi.GET())).body;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/connections/onboard", "/api/connections/onboard/batch", "/api/connections/{id}", "/api/metrics/funnel"]));
    const intentSchema = doc.components.schemas.ConnectionIntent;
    expect(intentSchema.additionalProperties).toBe(false);
    expect(intentSchema.required).toEqual(expect.arrayContaining(["source_type", "resource_ids", "credential_locator", "risk_level", "evidence", "owner"]));
    expect(intentSchema.properties.resource_ids.maxItems).toBe(100);
    expect(doc.paths["/api/connections/onboard"].post.responses["409"]).toBeDefined();
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(doc.components.schemas[r], r).toBeDefined();
  });
});
