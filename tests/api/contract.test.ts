/**
 * The REST API answers exactly what /api/openapi.json says: every answer below goes through the
 * document's own validator (status declared, body valid, Location / Retry-After /
 * WWW-Authenticate present), and every documented status of every operation is produced at least
 * once. A small fixture proves the validator fails on an undocumented field or status.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetEnvForTests } from "../../server/env";
import { type ApiHarness, sampleIntent, startApiHarness } from "../helpers/api-harness";
import { testEnv } from "../helpers/env";

let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness({ ratePerMinute: 100_000 });
});
afterAll(async () => h?.close());

const ONBOARD = "/api/connections/onboard";
const BATCH = "/api/connections/onboard/batch";
const CONN = "/api/connections/{id}";
const FUNNEL = "/api/metrics/funnel";

describe("every answer conforms to the OpenAPI document", () => {
  it("POST /api/connections/onboard: 200, 202 (with Location), 400, 401, 403, 409, 413, 415, 422", async () => {
    const c = h.contract;
    const final = await c.check("post", ONBOARD, await h.routes.onboard.POST(h.post(ONBOARD, sampleIntent())));
    expect(final.status).toBe(200);
    const queued = await c.check("post", ONBOARD, await h.routes.onboard.POST(h.post(`${ONBOARD}?async=1`, sampleIntent({ resource_ids: ["T0ASYNC"] }))));
    expect(queued.status).toBe(202);
    expect(queued.headers.get("location")).toBe((queued.body as { status_url: string }).status_url);
    const cases: [Request, number][] = [
      [h.post(ONBOARD, "{nope", {}, true), 400],
      [h.post(ONBOARD, sampleIntent(), { authorization: "" }), 401],
      [h.post(ONBOARD, sampleIntent(), { authorization: "Bearer aam_nothere_0123456789abcdefghij" }), 401],
      [h.post(ONBOARD, sampleIntent({ namespace: "demo" })), 403],
      [h.post(ONBOARD, sampleIntent({ source_type: "fax_machine" })), 409],
      [h.post(ONBOARD, sampleIntent({ resource_ids: ["x".repeat(300 * 1024)] })), 413],
      [h.post(ONBOARD, sampleIntent(), { "content-type": "text/plain" }), 415],
      [h.post(ONBOARD, sampleIntent({ risk_level: "extreme" })), 422],
    ];
    for (const [req, status] of cases) expect((await c.check("post", ONBOARD, await h.routes.onboard.POST(req))).status).toBe(status);
  });

  it("POST /api/connections/onboard/batch: 202, 400, 401, 413, 415, 422", async () => {
    const c = h.contract;
    const ok = await c.check("post", BATCH, await h.routes.batch.POST(h.post(BATCH, { intents: [sampleIntent({ resource_ids: ["T0B1"] }), { ...sampleIntent(), risk_level: 7 }] })));
    expect(ok.status).toBe(202);
    expect((ok.body as { accepted: number; rejected: number })).toMatchObject({ accepted: 1, rejected: 1 });
    const cases: [Request, number][] = [
      [h.post(BATCH, "[", {}, true), 400],
      [h.post(BATCH, { intents: [sampleIntent()] }, { authorization: "Bearer x" }), 401],
      [h.post(BATCH, { intents: Array.from({ length: 1001 }, () => ({})) }), 413],
      [h.post(BATCH, { intents: [sampleIntent()] }, { "content-type": "application/xml" }), 415],
      [h.post(BATCH, { intents: [{ source_type: 1 }] }), 422],
      [h.post(BATCH, { nope: [] }), 422],
    ];
    for (const [req, status] of cases) expect((await c.check("post", BATCH, await h.routes.batch.POST(req))).status).toBe(status);
  });

  it("GET /api/connections/{id}: 200 with the full view (a page of events), 401, 404, 422", async () => {
    const c = h.contract;
    const made = (await c.check("post", ONBOARD, await h.routes.onboard.POST(h.post(ONBOARD, sampleIntent({ resource_ids: ["T0VIEW"] }))))).body as { connection_id: string };
    const params = (id: string) => ({ params: Promise.resolve({ id }) });
    const view = await c.check("get", CONN, await h.routes.connection.GET(h.get(`/api/connections/${made.connection_id}`), params(made.connection_id)));
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ connection_id: made.connection_id, source_type: "slack", events: expect.any(Array) });
    expect((await c.check("get", CONN, await h.routes.connection.GET(h.get("/api/connections/x", "Bearer-less"), params("x")))).status).toBe(401);
    expect((await c.check("get", CONN, await h.routes.connection.GET(h.get("/api/connections/not-a-uuid"), params("not-a-uuid")))).status).toBe(404);
    const other = "00000000-0000-4000-8000-000000000000";
    expect((await c.check("get", CONN, await h.routes.connection.GET(h.get(`/api/connections/${other}`), params(other)))).status).toBe(404);
    const paged = await c.check("get", CONN, await h.routes.connection.GET(h.get(`/api/connections/${made.connection_id}?events_limit=1`), params(made.connection_id)));
    expect(paged.status).toBe(200);
    expect((paged.body as { events: unknown[]; events_total: number }).events).toHaveLength(1);
    for (const q of ["events_limit=0", "events_limit=201", "events_limit=x", "events_before=nope!"]) {
      expect((await c.check("get", CONN, await h.routes.connection.GET(h.get(`/api/connections/${made.connection_id}?${q}`), params(made.connection_id)))).status).toBe(422);
    }
  });

  it("GET /api/metrics/funnel: 200, 401, 422; /api/health 200; /api/openapi.json 200", async () => {
    const c = h.contract;
    expect((await c.check("get", FUNNEL, await h.routes.funnel.GET(h.get(`${FUNNEL}?namespace=autonomy`)))).status).toBe(200);
    expect((await c.check("get", FUNNEL, await h.routes.funnel.GET(h.get(FUNNEL, "aam_wrong_0123456789abcdefghijkl")))).status).toBe(401);
    expect((await c.check("get", FUNNEL, await h.routes.funnel.GET(h.get(`${FUNNEL}?namespace=NOT%20OK`)))).status).toBe(422);
    expect((await c.check("get", "/api/health", await h.routes.health.GET())).status).toBe(200);
    expect((await c.check("get", "/api/openapi.json", h.routes.openapi.GET())).status).toBe(200);
  });

  it("429 comes with Retry-After on every route that takes a key", async () => {
    const c = h.contract;
    testEnv.API_RATE_PER_MINUTE = "1";
    resetEnvForTests();
    try {
      const k = await h.newKey();
      await h.routes.funnel.GET(h.get(FUNNEL, k));
      const params = { params: Promise.resolve({ id: "00000000-0000-4000-8000-000000000000" }) };
      const answers = [
        ["post", ONBOARD, await h.routes.onboard.POST(h.post(ONBOARD, sampleIntent(), {}, false, k))],
        ["post", BATCH, await h.routes.batch.POST(h.post(BATCH, { intents: [sampleIntent()] }, {}, false, k))],
        ["get", CONN, await h.routes.connection.GET(h.get("/api/connections/00000000-0000-4000-8000-000000000000", k), params)],
        ["get", FUNNEL, await h.routes.funnel.GET(h.get(FUNNEL, k))],
      ] as const;
      for (const [m, p, res] of answers) expect((await c.check(m, p, res)).status).toBe(429);
    } finally {
      testEnv.API_RATE_PER_MINUTE = "100000";
      resetEnvForTests();
    }
  });

  it("every status the document declares was produced by the handlers above", () => {
    for (const [path, ops] of Object.entries(h.contract.doc.paths)) {
      for (const [method, op] of Object.entries(ops as Record<string, { responses: Record<string, unknown> }>)) {
        const seen = h.contract.seen.get(`${method.toUpperCase()} ${path}`) ?? new Map<number, number>();
        const missing = Object.keys(op.responses).filter((s) => !seen.has(Number(s)) && !(path === "/api/health" && s === "503"));
        expect({ op: `${method} ${path}`, missing }).toEqual({ op: `${method} ${path}`, missing: [] });
      }
    }
  });
});

describe("the validator itself (fixtures, not the app)", () => {
  const json = { "content-type": "application/json" };
  const result = { connection_id: "c1", status: "ACTIVE", namespace: "autonomy", first_sync_rows: 3, latency_ms: 10, funnel_stage: "active", message: "ok" };

  it("accepts a documented answer and refuses an undocumented field", () => {
    expect(h.contract.problems("post", ONBOARD, 200, new Headers(json), result)).toEqual([]);
    const extra = h.contract.problems("post", ONBOARD, 200, new Headers(json), { ...result, risk_score: 0.3 });
    expect(extra.join("\n")).toMatch(/additional properties \(risk_score\)/);
  });

  it("refuses an undocumented status, a missing Location on 202 and a degraded health body on 200 with extra fields", () => {
    expect(h.contract.problems("post", ONBOARD, 500, new Headers(json), { error: { code: "X", message: "y" } })[0]).toMatch(/does not declare/);
    expect(h.contract.problems("post", ONBOARD, 202, new Headers(json), { ...result, status: "PENDING", status_url: "/api/connections/c1" })[0]).toMatch(/Location/);
    expect(h.contract.problems("get", "/api/health", 503, new Headers(json), { status: "degraded", database: { status: "down", latency_ms: null, migrations: null } })).toEqual([]);
    expect(h.contract.problems("get", "/api/health", 200, new Headers(json), { status: "ok", database: { status: "up", latency_ms: 1, migrations: 1, host: "db" } })).not.toEqual([]);
  });
});
