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

  it("a database that fails after the key check is a 503 with Retry-After (transient) or a 500 with a reference, in the error shape, never its text", async () => {
    const c = h.contract;
    const { services } = await import("../../server/http/services");
    const real = services().db;
    const conn = await c.check("post", ONBOARD, await h.routes.onboard.POST(h.post(ONBOARD, sampleIntent({ resource_ids: ["T0FAILS"] }))));
    const id = (conn.body as { connection_id: string }).connection_id;
    const calls = () => [
      ["post", ONBOARD, () => h.routes.onboard.POST(h.post(ONBOARD, sampleIntent({ resource_ids: ["T0FAILS2"] })))],
      ["post", BATCH, () => h.routes.batch.POST(h.post(BATCH, { intents: [sampleIntent({ resource_ids: ["T0FAILS3"] })] }))],
      ["get", CONN, () => h.routes.connection.GET(h.get(`/api/connections/${id}`), { params: Promise.resolve({ id }) })],
      ["get", FUNNEL, () => h.routes.funnel.GET(h.get(`${FUNNEL}?namespace=autonomy`))],
    ] as const;
    const failures = [
      [503, "SERVICE_UNAVAILABLE", Object.assign(new Error("Can't reach database server at `db.internal.example:5432`"), { code: "P1001" })],
      [500, "INTERNAL_ERROR", new Error('relation "connections" does not exist at db.internal.example')],
    ] as const;
    const rowsBefore = await h.countRows();
    try {
      for (const [status, code, failure] of failures) {
        services().db = failingExceptKeys(real, failure);
        for (const [method, docPath, call] of calls()) {
          const res = await c.check(method, docPath, await call());
          expect({ docPath, status: res.status }).toEqual({ docPath, status });
          const body = res.body as { error: { code: string; message: string } };
          expect(body.error.code).toBe(code);
          expect(body.error.message).toMatch(/reference [0-9a-f]{8}/);
          expect(JSON.stringify(body)).not.toMatch(/db\.internal|relation|P1001/);
          if (status === 503) expect(res.headers.get("retry-after")).toBe("5");
        }
      }
    } finally {
      services().db = real;
    }
    expect(await h.countRows()).toBe(rowsBefore);
  });

  it("a method an endpoint does not serve is a 405 in the error shape with Allow", async () => {
    const answers = [
      [h.routes.onboard.GET, "POST, OPTIONS"],
      [h.routes.onboard.DELETE, "POST, OPTIONS"],
      [h.routes.batch.PUT, "POST, OPTIONS"],
      [h.routes.connection.POST, "GET, OPTIONS"],
      [h.routes.connection.DELETE, "GET, OPTIONS"],
      [h.routes.funnel.PATCH, "GET, OPTIONS"],
      [h.routes.health.POST, "GET, OPTIONS"],
    ] as const;
    for (const [handler, allow] of answers) {
      const res = await handler();
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect((await res.json()) as unknown).toMatchObject({ error: { code: "METHOD_NOT_ALLOWED", message: expect.stringMatching(/answers (GET|POST) only/) } });
    }
  });

  it("query parameters are taken as documented and nothing else: async, events_limit, events_before", async () => {
    const c = h.contract;
    const rowsBefore = await h.countRows();
    for (const q of ["yes", "TRUE", "2", ""]) {
      const res = await c.check("post", ONBOARD, await h.routes.onboard.POST(h.post(`${ONBOARD}?async=${q}`, sampleIntent({ resource_ids: [`T0Q${q}`] }))));
      expect({ q, status: res.status }).toEqual({ q, status: 422 });
      expect((res.body as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path)).toEqual(["async"]);
    }
    expect(await h.countRows()).toBe(rowsBefore); // refused before anything was written
    expect((await c.check("post", ONBOARD, await h.routes.onboard.POST(h.post(`${ONBOARD}?async=false`, sampleIntent({ resource_ids: ["T0QSYNC"] }))))).status).toBe(200);
    expect((await c.check("post", ONBOARD, await h.routes.onboard.POST(h.post(`${ONBOARD}?async=true`, sampleIntent({ resource_ids: ["T0QASYNC"] }))))).status).toBe(202);

    const made = (await c.check("post", ONBOARD, await h.routes.onboard.POST(h.post(ONBOARD, sampleIntent({ resource_ids: ["T0QVIEW"] }))))).body as { connection_id: string };
    const get = async (q: string) => c.check("get", CONN, await h.routes.connection.GET(h.get(`/api/connections/${made.connection_id}?${q}`), { params: Promise.resolve({ id: made.connection_id }) }));
    const b64 = (s: string) => Buffer.from(s).toString("base64url");
    for (const q of ["events_limit=1e2", "events_limit=0x10", "events_limit=%205", "events_limit=5.0", "events_limit=", `events_before=${b64("1.9223372036854775808")}`, `events_before=${b64("999999999999999.1")}`, `events_before=${b64("01.5")}`]) {
      expect({ q, status: (await get(q)).status }).toEqual({ q, status: 422 });
    }
    expect((await get("events_limit=5")).status).toBe(200);
    expect((await get(`events_before=${b64("253402300799999.9223372036854775807")}`)).status).toBe(200);
  });

  it("a batch none of whose intents is accepted answers 422 with each item's own refusal; a body over 8 MB is PAYLOAD_TOO_LARGE", async () => {
    const c = h.contract;
    const refused = await c.check("post", BATCH, await h.routes.batch.POST(h.post(BATCH, { intents: [sampleIntent({ namespace: "demo" }), { ...sampleIntent(), risk_level: 7 }] })));
    expect(refused.status).toBe(422);
    const error = (refused.body as { error: { code: string; items: { index: number; error: { code: string } }[]; issues: { path: string }[] } }).error;
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.items.map((i) => [i.index, i.error.code])).toEqual([
      [0, "NAMESPACE_READ_ONLY"],
      [1, "VALIDATION_FAILED"],
    ]);
    expect(error.issues.map((i) => i.path)).toEqual(["intents.0.namespace", "intents.1.risk_level"]);
    // the same item beside an accepted one carries the same code
    const mixed = await c.check("post", BATCH, await h.routes.batch.POST(h.post(BATCH, { intents: [sampleIntent({ namespace: "demo" }), sampleIntent({ resource_ids: ["T0MIXED"] })] })));
    expect((mixed.body as { items: { error?: { code: string } }[] }).items[0]!.error!.code).toBe("NAMESPACE_READ_ONLY");

    const huge = await c.check("post", BATCH, await h.routes.batch.POST(h.post(BATCH, { intents: [sampleIntent({ resource_ids: ["x".repeat(9 * 1024 * 1024)] })] })));
    expect(huge.status).toBe(413);
    expect((huge.body as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
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

/** A client that answers API-key reads and fails everything else with `failure` (the database went away after the key check). */
function failingExceptKeys<T extends object>(real: T, failure: Error): T {
  const failing: unknown = new Proxy(function () {}, { get: () => failing, apply: () => Promise.reject(failure) });
  return new Proxy(real, { get: (target, prop, receiver) => (prop === "apiKey" ? Reflect.get(target, prop, receiver) : failing) });
}

describe("the validator itself (fixtures, not the app)", () => {
  const json = { "content-type": "application/json" };
  const result = { connection_id: "c1", status: "ACTIVE", namespace: "autonomy", first_sync_rows: 3, latency_ms: 10, funnel_stage: "active", message: "ok" };

  it("accepts a documented answer and refuses an undocumented field", () => {
    expect(h.contract.problems("post", ONBOARD, 200, new Headers(json), result)).toEqual([]);
    const extra = h.contract.problems("post", ONBOARD, 200, new Headers(json), { ...result, risk_score: 0.3 });
    expect(extra.join("\n")).toMatch(/additional properties \(risk_score\)/);
  });

  it("refuses an undocumented status, a missing Location on 202 and a degraded health body on 200 with extra fields", () => {
    expect(h.contract.problems("post", ONBOARD, 502, new Headers(json), { error: { code: "X", message: "y" } })[0]).toMatch(/does not declare/);
    expect(h.contract.problems("post", ONBOARD, 202, new Headers(json), { ...result, status: "PENDING", status_url: "/api/connections/c1" })[0]).toMatch(/Location/);
    expect(h.contract.problems("get", "/api/health", 503, new Headers(json), { status: "degraded", database: { status: "down", latency_ms: null, migrations: null } })).toEqual([]);
    expect(h.contract.problems("get", "/api/health", 200, new Headers(json), { status: "ok", database: { status: "up", latency_ms: 1, migrations: 1, host: "db" } })).not.toEqual([]);
  });
});
