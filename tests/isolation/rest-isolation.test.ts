/**
 * Tenant isolation for every REST route (issue 12), through the real route handlers, queue and
 * worker, each answer checked against /api/openapi.json. Tenant A is the harness's seeded tenant
 * (with its demo connections); tenant B is made by `createTenant` (what `npm run tenants --
 * create` runs). B's key gets 404 for each of A's connections, B's funnel counts only B's, and the
 * same intent posted by B makes B's own connection while A's row stays as it was. The route files
 * under app/api are enumerated, so a new route fails here until it is covered.
 */
import fs from "node:fs";
import path from "node:path";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant } from "../../server/tenants/tenant-repository";
import { type ApiHarness, sampleIntent, startApiHarness } from "../helpers/api-harness";

let h: ApiHarness;
let b: { tenant_id: string; api_key: string };
let aConnection: string;
const INTENT = sampleIntent({ resource_ids: ["T0ISOLATION"] });

/** Every route file under app/api, and where its isolation is proven. */
const ROUTES: Record<string, string> = {
  "connections/[id]": "here: 404 for another tenant's connection",
  "connections/onboard": "here: writes only the key's tenant",
  "connections/onboard/batch": "here: writes only the key's tenant",
  "metrics/funnel": "here: the key's tenant only",
  "health": "here: public, holds no tenant data",
  "openapi.json": "here: public, holds no tenant data",
  "trpc/[trpc]": "tests/isolation/trpc-isolation.test.ts (every procedure)",
  "auth/[...nextauth]": "Auth.js sign-in; the tenant comes from the user's row (server/auth/user-repository.ts)",
  "oauth/callback": "tests for consent-flow: a callback finishes only the consent its signed state names, and only for the admin who started it",
};

beforeAll(async () => {
  h = await startApiHarness({ ratePerMinute: 100_000 });
  const t = await createTenant(h.db, { slug: "iso-rest-b", name: "Isolation B", adminEmail: "admin@iso-rest-b.test", sloTarget: 0.9 });
  b = { tenant_id: t.tenant_id, api_key: t.api_key };
  const res = await h.routes.onboard.POST(h.post("/api/connections/onboard", INTENT));
  const body = (await h.contract.check("post", "/api/connections/onboard", res)).body as { connection_id: string };
  aConnection = body.connection_id;
});
afterAll(async () => h?.close());

const params = (id: string) => ({ params: Promise.resolve({ id }) });
const aRows = () => h.db.connection.findMany({ where: { tenantId: h.tenantId }, orderBy: { id: "asc" } }).then((r) => superjson.stringify(r));

describe("REST isolation: tenant B's key never reaches tenant A", () => {
  it("every route under app/api is listed with where its isolation is proven", () => {
    const root = path.resolve(import.meta.dirname, "../../app/api");
    const found = (fs.readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f.endsWith(`${path.sep}route.ts`) || f === "route.ts")
      .map((f) => path.dirname(f).split(path.sep).join("/"))
      .sort();
    expect(found).toEqual(Object.keys(ROUTES).sort());
  });

  it("GET /api/connections/{id}: 404 with B's key for each of A's connections (autonomy and demo), 200 with A's", async () => {
    const ids = (await h.db.connection.findMany({ where: { tenantId: h.tenantId }, select: { id: true } })).map((r) => r.id);
    expect(ids.length).toBeGreaterThan(1);
    for (const id of ids) {
      const theirs = await h.contract.check("get", "/api/connections/{id}", await h.routes.connection.GET(h.get(`/api/connections/${id}`, b.api_key), params(id)));
      expect(theirs.status).toBe(404);
      expect(JSON.stringify(theirs.body)).not.toContain(id);
    }
    expect((await h.contract.check("get", "/api/connections/{id}", await h.routes.connection.GET(h.get(`/api/connections/${aConnection}`), params(aConnection)))).status).toBe(200);
  });

  it("GET /api/metrics/funnel: B's key counts B's connections only, in every namespace", async () => {
    for (const ns of ["autonomy", "demo"]) {
      const theirs = (await h.contract.check("get", "/api/metrics/funnel", await h.routes.funnel.GET(h.get(`/api/metrics/funnel?namespace=${ns}`, b.api_key)))).body as { received: number };
      expect(theirs.received, ns).toBe(await h.db.connection.count({ where: { tenantId: b.tenant_id, namespace: ns } }));
      const ours = (await h.contract.check("get", "/api/metrics/funnel", await h.routes.funnel.GET(h.get(`/api/metrics/funnel?namespace=${ns}`)))).body as { received: number };
      expect(ours.received, ns).toBe(await h.db.connection.count({ where: { tenantId: h.tenantId, namespace: ns } }));
      expect(ours.received).toBeGreaterThan(0);
    }
  });

  it("POST /api/connections/onboard and /batch with B's key: B's own connection for the same natural key; A's rows unchanged", async () => {
    const before = await aRows();
    const single = (await h.contract.check("post", "/api/connections/onboard", await h.routes.onboard.POST(h.post("/api/connections/onboard", INTENT, {}, false, b.api_key)))).body as { connection_id: string };
    expect(single.connection_id).not.toBe(aConnection);
    expect((await h.db.connection.findUniqueOrThrow({ where: { id: single.connection_id } })).tenantId).toBe(b.tenant_id);
    const batch = (await h.contract.check("post", "/api/connections/onboard/batch", await h.routes.batch.POST(h.post("/api/connections/onboard/batch", { intents: [INTENT, sampleIntent({ resource_ids: ["T0ISOLATION-2"] })] }, {}, false, b.api_key)))).body as { items: { connection_id?: string }[] };
    const batchIds = batch.items.map((i) => i.connection_id).filter(Boolean) as string[];
    expect(batchIds).toContain(single.connection_id);
    expect(await h.db.connection.count({ where: { id: { in: batchIds }, tenantId: { not: b.tenant_id } } })).toBe(0);
    // the worker has finished B's attempts before A's rows are compared
    for (let i = 0; i < 100 && (await h.db.connection.count({ where: { tenantId: b.tenant_id, status: "PENDING" } })) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await aRows()).toBe(before);
    // and A's key cannot see B's
    const mine = await h.contract.check("get", "/api/connections/{id}", await h.routes.connection.GET(h.get(`/api/connections/${single.connection_id}`), params(single.connection_id)));
    expect(mine.status).toBe(404);
  });

  it("the public routes (health, OpenAPI) hold no tenant data", async () => {
    const markers = [h.tenantId, b.tenant_id, aConnection, "iso-rest-b"];
    for (const res of [await h.routes.health.GET(), await h.routes.openapi.GET()]) {
      const text = await res.text();
      for (const m of markers) expect(text).not.toContain(m);
    }
  });
});
