/**
 * `npm run tenants`: create prints the documented JSON once; the printed key onboards into that
 * tenant only and the printed admin can sign in; another tenant's key sees none of it (404, its
 * own funnel); disable stops the keys and the sign-ins at once and keeps the data.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../../server/auth/user-repository";
import { childEnv } from "../../server/env";
import { type ApiHarness, sampleIntent, startApiHarness } from "../helpers/api-harness";

const root = path.resolve(import.meta.dirname, "../..");
let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness({ ratePerMinute: 100_000 });
});
afterAll(async () => h?.close());

function tenants(...args: string[]) {
  const url = h.databaseUrl;
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/tenants.ts", ...args], { cwd: root, env: childEnv({ DATABASE_URL: url, NODE_OPTIONS: undefined }), encoding: "utf8" });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

describe("npm run tenants", () => {
  let acme: { tenant_id: string; slug: string; admin_email: string; admin_password: string; api_key: string };

  it("create … --json prints the tenant, its admin's password and its API key once", () => {
    const r = tenants("create", "acme", "--name", "Acme Corp", "--admin", "admin@acme.test", "--json");
    expect(r.code, r.err).toBe(0);
    acme = JSON.parse(r.out);
    expect(Object.keys(acme).sort()).toEqual(["admin_email", "admin_password", "api_key", "slug", "tenant_id"]);
    expect(acme).toMatchObject({ slug: "acme", admin_email: "admin@acme.test", api_key: expect.stringMatching(/^aam_/) });
    expect(acme.admin_password.length).toBeGreaterThanOrEqual(12);
  });

  it("refuses a taken slug or email, and a bad slug, in one sentence with a non-zero exit", () => {
    const taken = tenants("create", "acme", "--admin", "other@acme.test");
    expect(taken.code).toBe(2);
    expect(taken.err).toMatch(/already exists/);
    const email = tenants("create", "acme2", "--admin", "admin@acme.test");
    expect(email.code).toBe(2);
    expect(email.err).toMatch(/admin@acme.test already exists/);
    expect(tenants("create", "Bad Slug!", "--admin", "x@y.test").code).toBe(2);
    expect(tenants("create").code).toBe(2);
  });

  it("the printed key onboards into acme only; the default tenant's key cannot see it, and each funnel is its own", async () => {
    const res = await h.routes.onboard.POST(h.post("/api/connections/onboard", sampleIntent({ resource_ids: ["T0ACME"] }), {}, false, acme.api_key));
    const body = (await h.contract.check("post", "/api/connections/onboard", res)).body as { connection_id: string; status: string };
    const row = await h.db.connection.findUniqueOrThrow({ where: { id: body.connection_id }, select: { tenantId: true } });
    expect(row.tenantId).toBe(acme.tenant_id);
    const params = { params: Promise.resolve({ id: body.connection_id }) };
    expect((await h.routes.connection.GET(h.get(`/api/connections/${body.connection_id}`, acme.api_key), params)).status).toBe(200);
    expect((await h.routes.connection.GET(h.get(`/api/connections/${body.connection_id}`, h.key), params)).status).toBe(404);
    const theirs = await (await h.routes.funnel.GET(h.get("/api/metrics/funnel?namespace=autonomy", acme.api_key))).json();
    expect(theirs).toMatchObject({ received: 1, eligible: 1 });
    const ours = await (await h.routes.funnel.GET(h.get("/api/metrics/funnel?namespace=autonomy", h.key))).json();
    expect(ours.received).toBe(await h.db.connection.count({ where: { tenantId: h.tenantId, namespace: "autonomy" } }));
  });

  it("the printed admin signs in (password check) as an admin of acme", async () => {
    const user = await verifyPassword(h.db, "admin@acme.test", acme.admin_password);
    expect(user).toMatchObject({ email: "admin@acme.test", role: "admin", tenantId: acme.tenant_id });
  });

  it("list shows it; disable stops its key and its sign-ins at once and keeps its data; enable restores them", async () => {
    const list = JSON.parse(tenants("list", "--json").out) as { slug: string; disabled: boolean; connections: number }[];
    expect(list.find((t) => t.slug === "acme")).toMatchObject({ disabled: false, connections: 1 });
    expect(tenants("disable", "acme").code).toBe(0);
    const refused = await h.routes.funnel.GET(h.get("/api/metrics/funnel", acme.api_key));
    expect(refused.status).toBe(401);
    expect(await verifyPassword(h.db, "admin@acme.test", acme.admin_password)).toBeNull();
    expect(await h.db.connection.count({ where: { tenantId: acme.tenant_id } })).toBe(1);
    expect(JSON.parse(tenants("list", "--json").out).find((t: { slug: string }) => t.slug === "acme")).toMatchObject({ disabled: true });
    expect(tenants("disable", "nope").code).toBe(3);
    expect(tenants("enable", "acme").code).toBe(0);
    expect((await h.routes.funnel.GET(h.get("/api/metrics/funnel", acme.api_key))).status).toBe(200);
    const audit = await h.db.auditEvent.findMany({ where: { tenantId: acme.tenant_id }, orderBy: { at: "asc" }, select: { action: true, details: true } });
    // (its onboarding bound its secret too: secret_binding.bound, not this test's subject)
    expect(audit.map((a) => a.action).filter((a) => a.startsWith("tenant."))).toEqual(["tenant.created", "tenant.disabled", "tenant.enabled"]);
    expect(JSON.stringify(audit)).not.toContain(acme.admin_password);
    expect(JSON.stringify(audit)).not.toContain(acme.api_key);
  });

  it("make autonomy-mode's settings change is in the default tenant's audit log, with who and what", async () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/autonomy-mode.ts", "--rate", "45"], { cwd: root, env: childEnv({ DATABASE_URL: h.databaseUrl, NODE_OPTIONS: undefined }), encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const e = await h.db.auditEvent.findFirstOrThrow({ where: { tenantId: h.tenantId, action: "settings.changed" }, orderBy: { at: "desc" } });
    expect(e).toMatchObject({ actorLabel: "operator (make autonomy-mode)", target: "autonomy", details: expect.objectContaining({ rate_per_minute: 45, safe_mode: true }) });
  });
});
