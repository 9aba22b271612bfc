/**
 * A tenant's own secret goes only where it is bound (server/onboarding/secret-binding.ts), through
 * the real pipeline, credential resolver, destination loader and REST driver: two GitHub-like
 * listeners on hosts the tenant's admin approved, one secret. Its first successful use binds it;
 * an intent pointing the same locator at the other approved host, at another connector, or at
 * another instance of the same vendor is NETWORK_BLOCKED before the secret is read, and the other
 * listener receives nothing — until an admin allows the secret there.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { bindConnector } from "../../server/connectors/binding";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";
import type { CredentialResolver } from "../../server/credentials/types";
import type { Db } from "../../server/db/client";
import { getConnectionById } from "../../server/onboarding/connection-repository";
import { createDestinationLoader } from "../../server/onboarding/destination-grant";
import { addApprovedDestination } from "../../server/onboarding/destination-repository";
import { allowSecretForConnection, bindingOfConnection, changeSecretBindingApproval, listSecretBindings, removeSecretBinding } from "../../server/onboarding/manage-secret-bindings";
import { parseConnectionIntent } from "../../server/onboarding/intent-admission";
import { admitIntent, runAttempt, type PipelineDeps } from "../../server/onboarding/pipeline";
import { addBinding } from "../../server/onboarding/secret-binding-repository";
import { createTestTenant, ownSecret, testDb } from "../helpers/db";

const TOKEN = "bound-secret-token-51c7a2";

type Seen = { connections: number; authorized: number };
/** Answers GitHub's health, org lookup and the two streams; counts connections and requests that carried the token. */
function githubLike(seen: Seen): http.Server {
  const server = http.createServer((req, res) => {
    if (req.headers.authorization === `Bearer ${TOKEN}`) seen.authorized++;
    const p = new URL(req.url ?? "/", "http://x").pathname;
    const body = p === "/user" ? { login: "octo", id: 1 } : /^\/orgs\/[^/]+$/.test(p) ? { login: p.split("/")[2] } : [{ id: 1, name: "one" }];
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  server.on("connection", () => seen.connections++);
  return server;
}

let db: Db;
let tenantId: string;
let locator: string;
let resolves = 0;
const a: Seen = { connections: 0, authorized: 0 };
const b: Seen = { connections: 0, authorized: 0 };
let servers: http.Server[] = [];
let portA = 0;
let portB = 0;
let deps: PipelineDeps;
const enqueued: string[] = [];

beforeAll(async () => {
  db = testDb();
  servers = [githubLike(a), githubLike(b)];
  for (const s of servers) await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  [portA, portB] = servers.map((s) => (s.address() as AddressInfo).port) as [number, number];
  const real = createCredentialResolver({ db, encryptionKey: parseEncryptionKey("d".repeat(64)) });
  // counts every read of a secret: a refused use must not read it
  const counting: CredentialResolver = { ...real, resolve: (raw, ctx) => (resolves++, real.resolve(raw, ctx)) };
  deps = {
    db,
    credentials: counting,
    connectors: bindConnector,
    policy: async () => makePolicy({ requestTimeoutMs: 2_000, ratePerMinute: 60_000 }),
    destinations: createDestinationLoader(db, { ttlMs: 0 }),
  };
});
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  await db.$disconnect();
});
beforeEach(async () => {
  tenantId = await createTestTenant(db, "bind");
  locator = await ownSecret(db, tenantId, "GITHUB_TOKEN", TOKEN);
  const admin = { label: "admin@acme.test" };
  // the admin approved both hosts for GitHub (a proxy each, say): the destination check lets both through
  for (const port of [portA, portB]) await addApprovedDestination(db, tenantId, { kind: "host", pattern: "127.0.0.1", ports: [port], sourceTypes: ["github", "gitlab"], note: "" }, admin);
  Object.assign(a, { connections: 0, authorized: 0 });
  Object.assign(b, { connections: 0, authorized: 0 });
  resolves = 0;
  enqueued.length = 0;
});

async function onboard(over: { org?: string; sourceType?: string; config?: Record<string, unknown>; locator?: string }) {
  const org = over.org ?? "acme";
  const parsed = parseConnectionIntent({
    source_type: over.sourceType ?? "github",
    resource_ids: [org],
    scopes_mode: "safe_readonly",
    credential_locator: over.locator ?? locator,
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-08T18:00:00Z" },
    owner: { user: "it@acme.test", confidence: 0.9, why: "test" },
    config: over.config ?? { org, base_url: `http://127.0.0.1:${portA}` },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const admitted = await admitIntent(db, tenantId, parsed.intent);
  // an unchanged re-post of an ACTIVE connection runs nothing: its row as it stands
  const row = admitted.needsRun ? await runAttempt(deps, admitted.id) : await getConnectionById(db, admitted.id);
  return row!;
}

describe("a tenant's own secret goes only where it is bound", () => {
  it("its first successful use binds it; another approved host is refused before the secret is read, and receives nothing", async () => {
    const first = await onboard({ org: "acme" });
    expect(first.status).toBe("ACTIVE");
    expect(a.authorized).toBeGreaterThan(0);
    const { rows } = await listSecretBindings(db, tenantId);
    expect(rows).toEqual([expect.objectContaining({ locator, sourceType: "github", destination: `base_url=http://127.0.0.1:${portA}`, origin: "first_use", connectionId: first.id })]);
    const audit = await db.auditEvent.findMany({ where: { tenantId, action: "secret_binding.bound" }, select: { target: true, details: true } });
    expect(audit).toEqual([{ target: locator, details: expect.objectContaining({ sourceType: "github", connectionId: first.id }) }]);

    const readsBefore = resolves;
    const moved = await onboard({ org: "other", config: { org: "other", base_url: `http://127.0.0.1:${portB}` } });
    expect(moved.status).toBe("NETWORK_BLOCKED");
    expect(moved.statusReason).toContain(`Destination not approved for this secret: ${locator} is bound to another destination`);
    expect(moved.statusReason).toContain(`this connection would send it to github at base_url=http://127.0.0.1:${portB}`);
    // where it is bound is the admins' to see (the connection page), not the API key holder's
    expect(moved.statusReason).not.toContain(String(portA));
    expect((await bindingOfConnection(db, tenantId, moved.id))?.bound.map((x) => x.destination)).toEqual([`base_url=http://127.0.0.1:${portA}`]);
    expect(moved.statusReason).not.toContain(TOKEN);
    expect(resolves).toBe(readsBefore);
    expect(b).toEqual({ connections: 0, authorized: 0 });

    // the same connection again, unchanged: still bound, still allowed
    expect((await onboard({ org: "acme" })).status).toBe("ACTIVE");
  });

  it("another connector with the same secret is refused too (its hosts are not the ones the secret was bound to)", async () => {
    expect((await onboard({ org: "acme" })).status).toBe("ACTIVE");
    const before = { ...a };
    const gitlab = await onboard({ sourceType: "gitlab", org: "acme", config: { base_url: `http://127.0.0.1:${portA}` } }).catch((e: Error) => e);
    // whatever gitlab's config admits, the locator stays GitHub's: blocked, nothing more sent anywhere
    if (gitlab instanceof Error) throw gitlab;
    expect(gitlab.status).toBe("NETWORK_BLOCKED");
    expect(gitlab.statusReason).toContain(`${locator} is bound to another destination`);
    expect((await bindingOfConnection(db, tenantId, gitlab.id))).toMatchObject({ allowed: false, sourceType: "gitlab", bound: [{ sourceType: "github" }] });
    expect(a).toEqual(before);
  });

  it("another instance of the same vendor (config.instance: evil) never gets a secret bound to the tenant's own", async () => {
    const sn = await ownSecret(db, tenantId, "SERVICENOW", JSON.stringify({ user: "svc", password: TOKEN }));
    await addBinding(db, { tenantId, locator: sn, sourceType: "servicenow", destination: "https://acme.service-now.com/api/now, instance=acme" }, { label: "admin@acme.test" });
    const evil = await onboard({ sourceType: "servicenow", org: "incident", locator: sn, config: { instance: "evil" } });
    expect(evil.status).toBe("NETWORK_BLOCKED");
    expect(evil.statusReason).toContain(`${sn} is bound to another destination (where it was first used, or an admin allowed it), and this connection would send it to servicenow at https://evil.service-now.com/api/now, instance=evil`);
    expect(resolves).toBe(0);
  });

  it("a use that never got through binds nothing: a blocked first attempt cannot lock the secret away from where it belongs", async () => {
    const blocked = await onboard({ org: "acme", config: { org: "acme", base_url: "http://127.0.0.9:9" } });
    expect(blocked.status).toBe("NETWORK_BLOCKED");
    expect((await listSecretBindings(db, tenantId)).total).toBe(0);
    expect((await onboard({ org: "acme" })).status).toBe("ACTIVE");
    expect((await listSecretBindings(db, tenantId)).rows.map((r) => r.destination)).toEqual([`base_url=http://127.0.0.1:${portA}`]);
  });

  it("an admin allows it at the other host from the connection page: audited, resumed, and only then does the secret go there", async () => {
    await onboard({ org: "acme" });
    const moved = await onboard({ org: "other", config: { org: "other", base_url: `http://127.0.0.1:${portB}` } });
    const state = await bindingOfConnection(db, tenantId, moved.id);
    expect(state).toMatchObject({ locator, sourceType: "github", destination: `base_url=http://127.0.0.1:${portB}`, allowed: false });
    const admin = { id: null, label: "admin@acme.test" };
    const allowed = await allowSecretForConnection({ db, enqueue: async (ids) => void enqueued.push(...ids) }, tenantId, admin, moved.id);
    expect(allowed).toMatchObject({ ok: true, value: { resumed: 1, binding: { origin: "admin", createdBy: "admin@acme.test" } } });
    expect(enqueued).toEqual([moved.id]);
    expect((await getConnectionById(db, moved.id))?.status).toBe("PENDING");
    expect(b.authorized).toBe(0);
    expect((await runAttempt(deps, moved.id))?.status).toBe("ACTIVE");
    expect(b.authorized).toBeGreaterThan(0);
    // allowing twice says so, and changes nothing
    expect(await allowSecretForConnection({ db, enqueue: async () => undefined }, tenantId, admin, moved.id)).toMatchObject({ ok: false, error: { code: "ALREADY_ALLOWED" } });
    const actions = (await db.auditEvent.findMany({ where: { tenantId, action: { startsWith: "secret_binding." } }, orderBy: { id: "asc" }, select: { action: true, actorLabel: true } })).map((e) => `${e.action} ${e.actorLabel}`);
    expect(actions).toEqual(["secret_binding.bound onboarding (first use)", "secret_binding.allowed admin@acme.test"]);
  });

  it("with the organisation's admins approving first destinations, a secret bound nowhere is not read nor sent until an admin allows it", async () => {
    const admin = { id: null, label: "admin@acme.test" };
    expect(await changeSecretBindingApproval(db, tenantId, admin, true)).toEqual({ secretBindingApproval: true });
    const waiting = await onboard({ org: "acme" });
    expect(waiting.status).toBe("NETWORK_BLOCKED");
    expect(waiting.statusReason).toContain(`this organisation's admins approve where each secret may go, and ${locator} is bound nowhere yet; this connection would send it to github at base_url=http://127.0.0.1:${portA}`);
    expect(resolves).toBe(0);
    expect(a).toEqual({ connections: 0, authorized: 0 });
    expect((await listSecretBindings(db, tenantId)).total).toBe(0);
    expect(await bindingOfConnection(db, tenantId, waiting.id)).toMatchObject({ allowed: false, bound: [] });

    const allowed = await allowSecretForConnection({ db, enqueue: async (ids) => void enqueued.push(...ids) }, tenantId, admin, waiting.id);
    expect(allowed).toMatchObject({ ok: true, value: { resumed: 1, binding: { origin: "admin" } } });
    expect((await runAttempt(deps, waiting.id))?.status).toBe("ACTIVE");
    expect(a.authorized).toBeGreaterThan(0);
    // turning it off again: audited both ways, once each (setting it to what it is records nothing)
    await changeSecretBindingApproval(db, tenantId, admin, true);
    await changeSecretBindingApproval(db, tenantId, admin, false);
    const changes = await db.auditEvent.findMany({ where: { tenantId, action: "secret_binding.approval" }, orderBy: { id: "asc" }, select: { details: true } });
    expect(changes.map((c) => c.details)).toEqual([{ approvesFirstDestination: true }, { approvesFirstDestination: false }]);
  });

  it("removing a binding: the secret stays bound where another binding stands, and binds anew when none does", async () => {
    const first = await onboard({ org: "acme" });
    const moved = await onboard({ org: "other", config: { org: "other", base_url: `http://127.0.0.1:${portB}` } });
    await allowSecretForConnection({ db, enqueue: async () => undefined }, tenantId, { label: "admin@acme.test" }, moved.id);
    const toA = (await listSecretBindings(db, tenantId)).rows.find((r) => r.destination.includes(String(portA)))!;
    expect(await removeSecretBinding(db, tenantId, { label: "admin@acme.test" }, toA.id)).toMatchObject({ ok: true });
    // A no longer: the binding to B stands (the re-post's changed config — a trailing slash, same origin — re-runs it)
    const again = await onboard({ org: "acme", config: { org: "acme", base_url: `http://127.0.0.1:${portA}/` } });
    expect(again).toMatchObject({ id: first.id, status: "NETWORK_BLOCKED" });
    expect((await bindingOfConnection(db, tenantId, first.id))?.bound.map((x) => x.destination)).toEqual([`base_url=http://127.0.0.1:${portB}`]);
    // another tenant's binding is not this tenant's to remove
    const stranger = await createTestTenant(db, "stranger");
    const toB = (await listSecretBindings(db, tenantId)).rows[0]!;
    expect(await removeSecretBinding(db, stranger, { label: "x" }, toB.id)).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    expect(await removeSecretBinding(db, tenantId, { label: "admin@acme.test" }, toB.id)).toMatchObject({ ok: true });
    // bound nowhere: the next successful use binds it again
    expect((await onboard({ org: "acme" })).status).toBe("ACTIVE");
    expect((await listSecretBindings(db, tenantId)).rows.map((r) => r.destination)).toEqual([`base_url=http://127.0.0.1:${portA}`]);
  });
  it("a binding removed by another process stops allowing here within 2 s, as a removed destination does", async () => {
    const first = await onboard({ org: "acme" });
    expect(first.status).toBe("ACTIVE");
    // another process's admin removes the binding to A and allows B instead: this process still
    // remembers A as allowed (its cache is not the other process's to clear)
    await db.credentialBinding.deleteMany({ where: { tenantId, locator } });
    await addBinding(db, { tenantId, locator, sourceType: "github", destination: `base_url=http://127.0.0.1:${portB}` }, { label: "admin@acme.test" });
    const realNow = Date.now.bind(Date);
    const later = vi.spyOn(Date, "now").mockImplementation(() => realNow() + 2_001);
    try {
      const before = { ...a };
      const readsBefore = resolves;
      const again = await onboard({ org: "acme", config: { org: "acme", base_url: `http://127.0.0.1:${portA}/` } });
      expect(again).toMatchObject({ id: first.id, status: "NETWORK_BLOCKED" });
      expect(resolves).toBe(readsBefore);
      expect(a).toEqual(before);
    } finally {
      later.mockRestore();
    }
  });
});

describe("binding, directly", () => {
  it("two first uses at once bind one destination: the other is then compared with it", async () => {
    const { confirmFirstUse, checkSecretBinding } = await import("../../server/onboarding/secret-binding");
    const loc = await ownSecret(db, tenantId, "RACE", TOKEN);
    const checks = await Promise.all(["a", "b", "c", "d", "e", "f"].map((i) => checkSecretBinding(db, { tenantId, locator: loc, sourceType: "zendesk", config: { subdomain: `acme${i}` } })));
    const pending = checks.map((c) => (c.ok ? c.bindOnSuccess : undefined));
    expect(pending.every((p) => p !== undefined)).toBe(true);
    const conn = (await onboard({ org: "acme" })).id;
    await Promise.all(pending.map((p) => confirmFirstUse(db, p!, conn)));
    expect((await listSecretBindings(db, tenantId)).rows.filter((r) => r.locator === loc)).toHaveLength(1);
    const later = await Promise.all(["a", "b", "c", "d", "e", "f"].map((i) => checkSecretBinding(db, { tenantId, locator: loc, sourceType: "zendesk", config: { subdomain: `acme${i}` } })));
    expect(later.filter((c) => c.ok)).toHaveLength(1);
  });

  it("an sp: principal is bound once per source type (the operator lists the connectors it serves)", async () => {
    const { checkSecretBinding } = await import("../../server/onboarding/secret-binding");
    await addBinding(db, { tenantId, locator: "sp:ENTRA", sourceType: "servicenow", destination: "https://acme.service-now.com/api/now, instance=acme" }, { label: "admin@acme.test" });
    // another connector: bound nowhere yet for it
    expect(await checkSecretBinding(db, { tenantId, locator: "sp:entra", sourceType: "zendesk", config: { subdomain: "acme" } })).toMatchObject({ ok: true, bindOnSuccess: { sourceType: "zendesk" } });
    // the same connector at another instance: refused
    expect(await checkSecretBinding(db, { tenantId, locator: "sp:entra", sourceType: "servicenow", config: { instance: "evil" } })).toMatchObject({ ok: false });
    expect(await checkSecretBinding(db, { tenantId, locator: "sp:entra", sourceType: "servicenow", config: { instance: "acme" } })).toEqual({ ok: true });
  });

  it("every spelling of one secret shares its binding: a capital scheme, a Vault path with another #key or none, an sp: name in another case", async () => {
    const { checkSecretBinding, confirmFirstUse } = await import("../../server/onboarding/secret-binding");
    const conn = (await onboard({ org: "acme" })).id;
    const bindFirst = async (spelling: string, sourceType: string, config: Record<string, unknown>) => {
      const c = await checkSecretBinding(db, { tenantId, locator: spelling, sourceType, config });
      if (!c.ok || !c.bindOnSuccess) throw new Error(`expected a first use of ${spelling}`);
      await confirmFirstUse(db, c.bindOnSuccess, conn);
    };
    await bindFirst("vault:apps/sn#password", "servicenow", { instance: "acme" });
    for (const alias of ["vault:apps/sn", "vault:apps/sn#user", "VAULT:apps/sn#password", " vault:apps/sn#password"]) {
      expect(await checkSecretBinding(db, { tenantId, locator: alias, sourceType: "servicenow", config: { instance: "evil" } }), alias).toMatchObject({ ok: false });
      expect(await checkSecretBinding(db, { tenantId, locator: alias, sourceType: "servicenow", config: { instance: "acme" } }), alias).toEqual({ ok: true });
    }
    await bindFirst("sp:en_tra", "servicenow", { instance: "acme" });
    for (const alias of ["sp:EN_TRA", "sp:En-Tra", "sp:en.tra", "SP:en_tra"]) {
      expect(await checkSecretBinding(db, { tenantId, locator: alias, sourceType: "servicenow", config: { instance: "evil" } }), alias).toMatchObject({ ok: false });
    }
    // (the env: secret was bound by the onboarding above)
    expect(await checkSecretBinding(db, { tenantId, locator: locator.replace("env:", "ENV:"), sourceType: "github", config: { org: "x", base_url: `http://127.0.0.1:${portB}` } })).toMatchObject({ ok: false });
  });

  it("a use is matched by its key, not searched for among a bounded list: the 600th binding of a secret still allows, a refusal counts all 600", async () => {
    const { checkSecretBinding } = await import("../../server/onboarding/secret-binding");
    const loc = "env:AAM_SECRET_MANY_PLACES";
    await db.credentialBinding.createMany({
      data: Array.from({ length: 600 }, (_, i) => ({ tenantId, locator: loc, sourceType: "github", destination: `base_url=https://proxy.corp.example/p${i}`, origin: "admin", createdBy: "admin@acme.test", createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000) })),
    });
    expect(await checkSecretBinding(db, { tenantId, locator: loc, sourceType: "github", config: { org: "acme", base_url: "https://proxy.corp.example/p599" } })).toEqual({ ok: true });
    const refused = await checkSecretBinding(db, { tenantId, locator: loc, sourceType: "github", config: { org: "acme", base_url: "https://proxy.corp.example/elsewhere" } });
    expect(refused).toMatchObject({ ok: false, refusal: { message: expect.stringContaining(`${loc} is bound to 600 other destinations`) } });
  });

  it("bindings are per tenant: another organisation's use of the same locator name is not compared with this one's", async () => {
    const { checkSecretBinding } = await import("../../server/onboarding/secret-binding");
    await addBinding(db, { tenantId, locator: "vault:apps/sn", sourceType: "servicenow", destination: "https://acme.service-now.com/api/now, instance=acme" }, { label: "admin@acme.test" });
    const other = await createTestTenant(db, "other");
    expect(await checkSecretBinding(db, { tenantId: other, locator: "vault:apps/sn#password", sourceType: "servicenow", config: { instance: "globex" } })).toMatchObject({ ok: true, bindOnSuccess: {} });
    expect(await checkSecretBinding(db, { tenantId, locator: "vault:apps/sn#password", sourceType: "servicenow", config: { instance: "globex" } })).toMatchObject({ ok: false });
  });
});
