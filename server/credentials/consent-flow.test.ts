/**
 * Admin consent end to end against real PostgreSQL and a real authorization server
 * (oidc-provider, authorization code + PKCE), driven without a browser: the provider's
 * interactions are approved or denied automatically, and its redirects are followed with a
 * cookie jar until they reach our callback URL. Needs DATABASE_URL (npm test provides one).
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { introspectionAcceptor, startHttpSandbox } from "../connectors/sandbox/http-sandbox";
import type { SourceAdapter } from "../connectors/types";
import { makePolicy } from "../connectors/safe-mode/policy";
import type { Db } from "../db/client";
import { ok } from "../lib/result";
import { listAudit } from "../audit/audit-repository";
import { getConnection, listEvents } from "../onboarding/connection-repository";
import { admitIntent, runAttempt, type PipelineDeps } from "../onboarding/pipeline";
import { ConnectionIntentSchema } from "../onboarding/schemas";
import { createTestTenant, testDb } from "../../tests/helpers/db";
import { RESOURCE_SCOPES, startOAuthServer, type OAuthServer } from "../../tests/helpers/oauth-server";
import { scriptedAdapter } from "../../tests/helpers/scripted-adapter";
import { completeConsent, consentProviderFor, describeConsent, MAX_CONSENT_COVERS, startConsent, type ConsentFlowDeps, type ConsentProvider } from "./consent-flow";
import { getCredentialRecord } from "./credential-repository";
import { loadCredential, storeCredential } from "./credential-store";
import { parseLocator } from "./locator";
import { createCredentialResolver, parseEncryptionKey } from "./resolver";

const REDIRECT = "http://aam.test/api/oauth/callback";
const ADMIN = "admin@consent.test";
const ADMIN_ID = "00000000-0000-4000-8000-000000000001";
const key = parseEncryptionKey(randomBytes(32).toString("hex"));

let db: Db;
let idp: OAuthServer;
let tenantId: string;
let enqueued: string[][];

const providerFor = (over: Partial<ConsentProvider> = {}) => (): ReturnType<typeof consentProviderFor> =>
  ok({
    provider: "github",
    displayName: "GitHub",
    authorizeUrl: idp.authorizeUrl,
    tokenUrl: idp.tokenUrl,
    issuer: idp.issuer,
    clientId: idp.consentClient.clientId,
    clientSecret: idp.consentClient.clientSecret,
    // the test server's resource scopes stand in for GitHub's read:org / read:user
    scopes: [...RESOURCE_SCOPES],
    scopeSeparator: " ",
    authorizeParams: {},
    resource: idp.resource,
    ...over,
  });

const deps = (over: Partial<ConsentFlowDeps> = {}): ConsentFlowDeps => ({
  db,
  encryptionKey: key,
  enqueue: async (ids) => void enqueued.push([...ids]),
  providers: providerFor(),
  ...over,
});

const pipeline = (adapter: SourceAdapter): PipelineDeps => ({
  db,
  credentials: createCredentialResolver({ db, encryptionKey: key, consentProviders: providerFor() }),
  connectors: () => ({ adapter }),
  policy: async () => makePolicy(),
});

/** A GitHub connection whose credential is `consent:github`, run once: it ends AWAITING_CREDENTIALS. */
async function awaitingConnection(tenant = tenantId, org = `org-${randomBytes(4).toString("hex")}`): Promise<string> {
  const intent = ConnectionIntentSchema.parse({
    source_type: "github",
    resource_ids: [org],
    scopes_mode: "safe_readonly",
    credential_locator: "consent:github",
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
    owner: { user: "eng@example.com", confidence: 0.9, why: "org_owner" },
    config: { org },
  });
  const { id } = await admitIntent(db, tenant, intent);
  const row = await runAttempt(pipeline(scriptedAdapter()), id);
  expect(row?.status).toBe("AWAITING_CREDENTIALS");
  expect(row?.statusReason).toBe(`Admin consent needed: /connections/${id}/consent`);
  return id;
}

/** `n` copies of connection `a`, each waiting on consent and newer than it; the first `onSlack` wait on `consent:slack` instead. */
async function crowd(a: string, n: number, onSlack = 0): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, intent_hash, scopes_mode,
       credential_locator, risk_level, evidence, owner, config, updated_at)
     SELECT gen_random_uuid(), tenant_id, namespace, source_type, ARRAY['crowd-' || g], 'crowd-' || g, status, status_reason, intent_hash, scopes_mode,
       CASE WHEN g <= $3::int THEN 'consent:slack' ELSE credential_locator END, risk_level, evidence, owner, config, now() + g * interval '1 second'
     FROM connections, generate_series(1, $2::int) g WHERE id = $1::uuid`,
    a,
    n,
    onSlack,
  );
}

/** Plays the browser: follows the authorization server's redirects (with its cookies) until our callback. */
async function authorize(url: string): Promise<string> {
  const jar = new Map<string, string>();
  let next = url;
  for (let hop = 0; hop < 12; hop++) {
    if (next.startsWith(REDIRECT)) return next;
    const res = await fetch(next, { redirect: "manual", headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") } });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(";")[0]!;
      jar.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
    }
    const location = res.headers.get("location");
    if (!location) throw new Error(`authorization server stopped at ${res.status}: ${(await res.text()).slice(0, 200)}`);
    next = new URL(location, next).toString();
  }
  throw new Error("too many redirects");
}

async function start(connectionId: string, over: Partial<ConsentFlowDeps> = {}, connectionIds?: string[]) {
  const r = await startConsent(deps(over), { tenantId, connectionId, userId: ADMIN_ID, userLabel: ADMIN, redirectUri: REDIRECT, connectionIds });
  if (!r.ok) throw new Error(r.error.message);
  return r.value.url;
}

beforeAll(async () => {
  db = testDb();
  idp = await startOAuthServer({ redirectUri: REDIRECT, interactions: "approve", accountId: ADMIN });
});
afterAll(async () => {
  await idp?.close();
  await db?.$disconnect();
});
beforeEach(async () => {
  tenantId = await createTestTenant(db, "consent");
  enqueued = [];
  idp.setInteractions("approve");
});

describe("startConsent", () => {
  it("sends the admin to the provider with PKCE (S256), a state and the read-only scopes, keeping the secrets server-side", async () => {
    const id = await awaitingConnection();
    const url = new URL(await start(id));
    expect(url.origin + url.pathname).toBe(idp.authorizeUrl);
    const q = url.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("client_id")).toBe(idp.consentClient.clientId);
    expect(q.get("redirect_uri")).toBe(REDIRECT);
    expect(q.get("scope")).toBe("files.read records.read");
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get("state")!.length).toBeGreaterThanOrEqual(32);
    expect(q.get("resource")).toBe(idp.resource);
    expect(url.toString()).not.toContain(idp.consentClient.clientSecret);

    const rows = await db.consentRequest.findMany({ where: { connectionId: id } });
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    // only a hash of the state; the verifier sealed; ten minutes to finish
    expect(row.stateHash).not.toBe(q.get("state"));
    expect(row.stateHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.verifierCiphertext.length).toBeGreaterThanOrEqual(43);
    expect(row.keyId).toBe(key.id);
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBeGreaterThan(9.9 * 60_000);
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBeLessThan(10.1 * 60_000);
    expect(row.userLabel).toBe(ADMIN);
  });

  it("refuses connections that do not wait for consent, the demo namespace, and other tenants' connections", async () => {
    const id = await awaitingConnection();
    const other = await createTestTenant(db, "consent-other");
    const foreign = await startConsent(deps(), { tenantId: other, connectionId: id, userId: "00000000-0000-4000-8000-000000000002", redirectUri: REDIRECT });
    expect(foreign).toEqual({ ok: false, error: { code: "not_found", message: "No connection with this id in your organisation." } });

    await db.connection.update({ where: { id }, data: { namespace: "demo" } });
    const demo = await startConsent(deps(), { tenantId, connectionId: id, userId: "00000000-0000-4000-8000-000000000001", redirectUri: REDIRECT });
    expect(demo.ok ? "ok" : demo.error.code).toBe("read_only_namespace");

    await db.connection.update({ where: { id }, data: { namespace: "autonomy", status: "ACTIVE" } });
    const active = await startConsent(deps(), { tenantId, connectionId: id, userId: "00000000-0000-4000-8000-000000000001", redirectUri: REDIRECT });
    expect(active).toMatchObject({ ok: false, error: { code: "not_awaiting", message: "This connection is not waiting for consent." } });

    // another connector's consent is never started for (or lent to) this source type
    await db.connection.update({ where: { id }, data: { status: "AWAITING_CREDENTIALS", credentialLocator: "consent:box" } });
    const lent = await startConsent(deps(), { tenantId, connectionId: id, userId: ADMIN_ID, redirectUri: REDIRECT });
    expect(lent).toEqual({ ok: false, error: { code: "not_consent", connectionId: id, message: "consent:box tokens can only be used by box connections, not by this github connection: use consent:github." } });

    const noKey = await startConsent(deps({ encryptionKey: undefined }), { tenantId, connectionId: await awaitingConnection(), userId: "00000000-0000-4000-8000-000000000001", redirectUri: REDIRECT });
    expect(noKey.ok ? "ok" : noKey.error.code).toBe("unavailable");
    expect(await db.consentRequest.count({ where: { tenantId } })).toBe(0);
  });
});

describe("completeConsent", () => {
  it("exchanges the code, stores the tokens encrypted, resumes onboarding, and the connection becomes ACTIVE with the issued token", async () => {
    const id = await awaitingConnection();
    const callback = await authorize(await start(id));
    const cb = new URL(callback);
    expect(cb.searchParams.get("code")).toBeTruthy();
    expect(cb.searchParams.get("iss")).toBe(idp.issuer);

    const done = await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: callback });
    expect(done).toEqual({ ok: true, value: { connectionId: id, provider: "github", displayName: "GitHub", scopes: ["files.read", "records.read"], resumed: [id] } });
    expect(enqueued).toEqual([[id]]);
    const conn = await getConnection(db, tenantId, id);
    expect(conn?.status).toBe("PENDING");

    // encrypted at rest: the access token is not in the row, but decrypts for this tenant
    const stored = await loadCredential(db, key, tenantId, "consent:github", new Date());
    if (!stored.ok || !stored.value) throw new Error("no stored consent");
    const { access_token: accessToken, refresh_token: refreshToken } = stored.value.bundle;
    expect(accessToken).toBeTruthy();
    expect(refreshToken).toBeTruthy();
    expect(stored.value.kind).toBe("consent");
    // a refresh token was issued: the record outlives the access token, whose expiry is kept inside
    expect(stored.value.expiresAt).toBeNull();
    expect(Date.parse(stored.value.bundle.expires_at!)).toBeGreaterThan(Date.now() + 3_000_000);
    const record = await getCredentialRecord(db, tenantId, "consent:github");
    expect(record!.ciphertext.toString("latin1")).not.toContain(accessToken!);

    // the token is real: the authorization server says it is active, for the read-only scopes
    const intro = await fetch(`${idp.issuer}/token/introspection`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${idp.serviceClient.clientId}:${idp.serviceClient.clientSecret}`).toString("base64")}` },
      body: new URLSearchParams({ token: accessToken! }),
    }).then((r) => r.json() as Promise<{ active: boolean; scope?: string }>);
    expect(intro).toMatchObject({ active: true, scope: "files.read records.read" });

    // the next attempt resolves consent:github to that token and onboards
    const seen: string[] = [];
    const inner = scriptedAdapter({ records: 5 });
    const adapter: SourceAdapter = { ...inner, healthCheck: async (ctx, ...rest) => (seen.push(ctx.secret.access_token ?? ""), inner.healthCheck(ctx, ...rest)) };
    const row = await runAttempt(pipeline(adapter), id);
    expect(row?.status).toBe("ACTIVE");
    expect(seen).toEqual([accessToken]);

    const events = await listEvents(db, id);
    const consent = events.filter((e) => e.stage === "consent");
    expect(consent).toHaveLength(1);
    expect(consent[0]).toMatchObject({ outcome: "ok", message: `Admin consent for GitHub given by ${ADMIN} (read-only scopes: files.read, records.read); onboarding resumes` });
    // no secret anywhere in the history
    const history = JSON.stringify(events);
    for (const s of [accessToken!, refreshToken!, cb.searchParams.get("code")!, idp.consentClient.clientSecret]) expect(history).not.toContain(s);
  });

  it("renews an expired access token with the kept refresh token, without asking the admin again", async () => {
    const id = await awaitingConnection();
    expect((await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: await authorize(await start(id)) })).ok).toBe(true);
    const before = await loadCredential(db, key, tenantId, "consent:github", new Date());
    if (!before.ok || !before.value) throw new Error("no stored consent");
    const old = before.value.bundle.access_token!;
    const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: providerFor() });
    const ctx = { tenantId, connectionId: id, sourceType: "github", config: {} };
    // within the token's life: the stored token as it is
    expect(await resolver.resolve("consent:github", ctx)).toMatchObject({ ok: true, value: { access_token: old } });
    // two hours later: renewed through the token endpoint, stored, and active at the server
    const later = createCredentialResolver({ db, encryptionKey: key, consentProviders: providerFor(), now: () => new Date(Date.now() + 2 * 3_600_000) });
    const renewed = await later.resolve("consent:github", ctx);
    if (!renewed.ok) throw new Error(renewed.error.message);
    expect(renewed.value.access_token).not.toBe(old);
    const after = await loadCredential(db, key, tenantId, "consent:github", new Date());
    expect(after.ok && after.value?.bundle.access_token).toBe(renewed.value.access_token);
    const intro = await fetch(`${idp.issuer}/token/introspection`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${idp.serviceClient.clientId}:${idp.serviceClient.clientSecret}`).toString("base64")}` },
      body: new URLSearchParams({ token: renewed.value.access_token! }),
    }).then((r) => r.json() as Promise<{ active: boolean }>);
    expect(intro.active).toBe(true);
    // a refresh the server refuses: consent is needed again, and the message says why without secrets
    const broken = createCredentialResolver({ db, encryptionKey: key, consentProviders: providerFor({ clientSecret: "not-the-secret" }), now: () => new Date(Date.now() + 4 * 3_600_000) });
    const refused = await broken.resolve("consent:github", ctx);
    expect(refused).toMatchObject({ ok: false, error: { kind: "consent_required" } });
    if (!refused.ok) {
      expect(refused.error.message).toMatch(/could not be renewed/);
      expect(refused.error.message).not.toContain("not-the-secret");
    }
  });

  it("resumes exactly the connections listed on the consent screen the admin approved, and no other", async () => {
    const a = await awaitingConnection();
    const b = await awaitingConnection();
    const c = await awaitingConnection();
    // the screen lists every connection waiting on consent:github, this one first
    const summary = await describeConsent({ db, encryptionKey: key, providers: providerFor() }, tenantId, a);
    expect(summary?.covers[0]?.id).toBe(a);
    expect(new Set(summary?.covers.map((x) => x.id))).toEqual(new Set([a, b, c]));
    // the admin approved a and b (c was started later / not on their screen); a foreign id is ignored
    const foreignTenant = await createTestTenant(db, "consent-foreign");
    const foreign = await awaitingConnection(foreignTenant);
    const done = await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: await authorize(await start(a, {}, [b, foreign])) });
    expect(done.ok && [...done.value.resumed].sort()).toEqual([a, b].sort());
    expect((await getConnection(db, tenantId, b))?.status).toBe("PENDING");
    expect((await getConnection(db, tenantId, c))?.status).toBe("AWAITING_CREDENTIALS");
    expect((await getConnection(db, foreignTenant, foreign))?.status).toBe("AWAITING_CREDENTIALS");
    expect(enqueued).toEqual([[a, b]]);
  });

  it("lists and resumes its own connection however many others wait on consent (this provider's and others', newer)", async () => {
    const a = await awaitingConnection();
    // 250 newer connections waiting on consent: 150 on another provider, 100 on this one
    await crowd(a, 250, 150);
    const newest = (await db.connection.findFirst({ where: { tenantId, credentialLocator: "consent:github", resourceKey: "crowd-250" }, select: { id: true } }))!.id;
    const summary = await describeConsent({ db, encryptionKey: key, providers: providerFor() }, tenantId, a);
    expect(summary?.covers[0]?.id).toBe(a);
    expect(summary?.covers).toHaveLength(101);
    expect(summary?.waitingBeyond).toBe(0);
    expect(summary?.covers.map((c) => c.id)).toContain(newest);
    const done = await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: await authorize(await start(a, {}, [newest])) });
    expect(done.ok && [...done.value.resumed].sort()).toEqual([a, newest].sort());
    expect((await getConnection(db, tenantId, a))?.status).toBe("PENDING");
  });

  it("lists at most one screen's worth of waiting connections, its own first", async () => {
    const a = await awaitingConnection();
    await crowd(a, MAX_CONSENT_COVERS + 20);
    const summary = await describeConsent({ db, encryptionKey: key, providers: providerFor() }, tenantId, a);
    expect(summary?.covers).toHaveLength(MAX_CONSENT_COVERS);
    expect(summary?.covers[0]?.id).toBe(a);
    expect(new Set(summary?.covers.map((c) => c.id)).size).toBe(MAX_CONSENT_COVERS);
    // the 21 oldest of the 221 waiting are not on this screen, and it says so
    expect(summary?.waitingBeyond).toBe(21);
  });

  it("resumes only the started connection when the screen listed no others", async () => {
    const a = await awaitingConnection();
    const b = await awaitingConnection();
    const done = await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: await authorize(await start(a)) });
    expect(done.ok && done.value.resumed).toEqual([a]);
    expect((await getConnection(db, tenantId, b))?.status).toBe("AWAITING_CREDENTIALS");
  });

  it("is bound to the admin who started it: another signed-in user is refused, nothing is granted or resumed, and the link stays theirs", async () => {
    const id = await awaitingConnection();
    const callback = await authorize(await start(id));
    const other = await completeConsent(deps(), { tenantId, userId: "00000000-0000-4000-8000-000000000009", userLabel: "mallory@consent.test", callbackUrl: callback });
    expect(other).toEqual({ ok: false, error: { code: "other_user", connectionId: id, message: `This consent was started by ${ADMIN}; only they can finish it. Nothing was granted. Start your own from the connection's consent page.` } });
    expect(await getCredentialRecord(db, tenantId, "consent:github")).toBeNull();
    expect((await getConnection(db, tenantId, id))?.status).toBe("AWAITING_CREDENTIALS");
    expect(enqueued).toEqual([]);
    expect((await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: callback })).ok).toBe(true);
    const audit = await listAudit(db, tenantId);
    expect(audit.map((e) => [e.action, e.actorLabel]).reverse()).toEqual([
      ["consent.started", ADMIN],
      ["consent.refused", "mallory@consent.test"],
      ["consent.completed", ADMIN],
    ]);
    expect(audit[0]).toMatchObject({ target: `connection:${id}`, details: { provider: "github", connections: [id] } });
    expect(JSON.stringify(audit)).not.toContain(new URL(callback).searchParams.get("code")!);
  });

  it("keeps consent tokens per tenant: tenant B never sees tenant A's", async () => {
    const id = await awaitingConnection();
    expect((await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: await authorize(await start(id)) })).ok).toBe(true);
    const b = await createTestTenant(db, "consent-b");
    const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: providerFor() });
    const asB = await resolver.resolve("consent:github", { tenantId: b, connectionId: "x", sourceType: "github", config: {} });
    expect(asB).toMatchObject({ ok: false, error: { kind: "consent_required" } });
    const mine = await loadCredential(db, key, tenantId, "consent:github", new Date());
    expect(JSON.stringify(asB)).not.toContain(mine.ok && mine.value ? mine.value.bundle.access_token! : "none");
  });

  it("records a denial in words, keeps the connection waiting, and stores nothing", async () => {
    const id = await awaitingConnection();
    idp.setInteractions("deny");
    const callback = await authorize(await start(id));
    expect(new URL(callback).searchParams.get("error")).toBe("access_denied");

    const r = await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: callback });
    expect((await listAudit(db, tenantId, { action: "consent.denied" })).map((e) => e.details)).toEqual([{ provider: "github" }]);
    expect(r).toEqual({ ok: false, error: { code: "denied", connectionId: id, message: `Consent was denied by ${ADMIN}. Nothing was requested from GitHub; the connection keeps waiting for an admin's consent.` } });
    const conn = await getConnection(db, tenantId, id);
    expect(conn).toMatchObject({ status: "AWAITING_CREDENTIALS", statusReason: `Consent was denied by ${ADMIN}` });
    expect((await listEvents(db, id)).at(-1)).toMatchObject({ stage: "consent", outcome: "fail", status: "AWAITING_CREDENTIALS", message: `Consent was denied by ${ADMIN}` });
    expect(await getCredentialRecord(db, tenantId, "consent:github")).toBeNull();
    expect(enqueued).toEqual([]);
  });

  it("refuses a changed or unknown state, without using up the real one", async () => {
    const id = await awaitingConnection();
    const callback = new URL(await authorize(await start(id)));
    const tampered = new URL(callback);
    tampered.searchParams.set("state", `${callback.searchParams.get("state")!.slice(0, -2)}xy`);
    const bad = await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: tampered });
    expect(bad.ok ? "ok" : bad.error).toEqual({ code: "tampered", message: "This consent link is not valid: it was changed or was never issued here. Start again from the connection's consent page." });
    const none = new URL(callback);
    none.searchParams.delete("state");
    expect((await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: none })).ok).toBe(false);
    expect((await getConnection(db, tenantId, id))?.status).toBe("AWAITING_CREDENTIALS");

    expect((await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: callback })).ok).toBe(true);
  });

  it("refuses when the connection's config now resolves to another token endpoint: the code, verifier and client secret go only where the consent started", async () => {
    const id = await awaitingConnection();
    // providers that follow the connection's config, as a per-instance vendor's do (Zendesk subdomain, ServiceNow instance)
    const trapHits: string[] = [];
    const trap = http.createServer((req, res) => {
      trapHits.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "stolen", token_type: "bearer" }));
    });
    await new Promise<void>((r) => trap.listen(0, "127.0.0.1", r));
    const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}/token`;
    const following: ConsentFlowDeps["providers"] = async (_p, config) => providerFor(config.subdomain === "evil" ? { tokenUrl: trapUrl, tokenOrigin: "operator" } : {})();
    try {
      const callback = await authorize(await start(id, { providers: following }));
      // an API key re-posts the intent meanwhile, with another instance
      await db.connection.update({ where: { id }, data: { config: { org: "x", subdomain: "evil" } } });
      const done = await completeConsent(deps({ providers: following }), { tenantId, userId: ADMIN_ID, callbackUrl: callback });
      expect(done).toMatchObject({ ok: false, error: { code: "changed", message: expect.stringContaining("configuration changed after this consent started") } });
      expect(trapHits).toEqual([]);
      expect(await loadCredential(db, key, tenantId, "consent:github", new Date())).toMatchObject({ ok: true, value: null });
      expect((await getConnection(db, tenantId, id))?.status).toBe("AWAITING_CREDENTIALS");
      expect(enqueued).toEqual([]);
    } finally {
      await new Promise((r) => trap.close(r));
    }
  });

  it("refuses an expired state with words to start again", async () => {
    const id = await awaitingConnection();
    const callback = await authorize(await start(id));
    const later = () => new Date(Date.now() + 10 * 60_000 + 1_000);
    const r = await completeConsent(deps({ now: later }), { tenantId, userId: ADMIN_ID, callbackUrl: callback });
    expect(r.ok ? "ok" : r.error).toEqual({ code: "expired", connectionId: id, message: "This consent link expired (links last 10 minutes). Start again from the connection's consent page." });
    expect((await getConnection(db, tenantId, id))?.status).toBe("AWAITING_CREDENTIALS");
    expect(await getCredentialRecord(db, tenantId, "consent:github")).toBeNull();
  });

  it("accepts a state once: a replayed callback is refused", async () => {
    const id = await awaitingConnection();
    const callback = await authorize(await start(id));
    expect((await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: callback })).ok).toBe(true);
    const again = await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: callback });
    expect(again.ok ? "ok" : again.error.code).toBe("replayed");
    expect(enqueued).toHaveLength(1);
  });

  it("refuses another tenant's state, leaving it usable by its own tenant", async () => {
    const id = await awaitingConnection();
    const callback = await authorize(await start(id));
    const other = await createTestTenant(db, "consent-other");
    const r = await completeConsent(deps(), { tenantId: other, userId: ADMIN_ID, callbackUrl: callback });
    expect(r.ok ? "ok" : r.error).toEqual({ code: "other_tenant", message: "This consent link was not issued for your organisation. Sign in with an admin account of the organisation that started it." });
    expect(await getCredentialRecord(db, other, "consent:github")).toBeNull();
    expect((await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: callback })).ok).toBe(true);
  });

  it("reports a failed code exchange in words, without the code or the client secret", async () => {
    const id = await awaitingConnection();
    const wrongSecret = `wrong-${randomBytes(12).toString("hex")}`;
    const callback = await authorize(await start(id));
    const r = await completeConsent(deps({ providers: providerFor({ clientSecret: wrongSecret }) }), { tenantId, userId: ADMIN_ID, callbackUrl: callback });
    if (r.ok) throw new Error("expected a failure");
    expect(r.error.code).toBe("exchange_failed");
    expect(r.error.message).toMatch(/^GitHub did not issue tokens: invalid_client/);
    const code = new URL(callback).searchParams.get("code")!;
    const history = JSON.stringify(await listEvents(db, id));
    for (const text of [r.error.message, history]) {
      expect(text).not.toContain(code);
      expect(text).not.toContain(wrongSecret);
    }
    expect((await getConnection(db, tenantId, id))?.status).toBe("AWAITING_CREDENTIALS");
  });
});

describe("token endpoints never come from a connection's config", () => {
  /** a listener that must receive nothing: no request, no connection */
  async function trap() {
    let hits = 0;
    const server = http.createServer((_q, r) => void (hits++, r.end("{}")));
    server.on("connection", () => hits++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { port: (server.address() as AddressInfo).port, hits: () => hits, close: () => new Promise<void>((r) => server.close(() => r())) };
  }
  const envFor = { OAUTH_GITLAB_CLIENT_ID: "gl-client", OAUTH_GITLAB_CLIENT_SECRET: "gl-secret-never-sent", OAUTH_ZENDESK_CLIENT_ID: "zd", OAUTH_ZENDESK_CLIENT_SECRET: "zd-secret-never-sent", OAUTH_ZENDESK_INSTANCE: "acme.zendesk.com" };
  const providers = (name: string, config: Record<string, unknown>) => consentProviderFor(name, config, envFor);
  /** every Zendesk instance with a client of its own (as an organisation's OAuth apps give it) */
  const perInstance = (name: string, config: Record<string, unknown>) => consentProviderFor(name, config, { ...envFor, OAUTH_ZENDESK_INSTANCE: `${String(config.subdomain)}.zendesk.com` });
  const expired = (token_url?: string) => ({ access_token: "at-old", refresh_token: "rt-must-not-leak", expires_at: new Date(Date.now() - 60_000).toISOString(), ...(token_url ? { token_url } : {}) });

  it("a refresh never posts the refresh token or client secret to a host chosen by config (GitLab host)", async () => {
    const listener = await trap();
    try {
      const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: providers });
      const ctx = { tenantId, connectionId: "c-gl", sourceType: "gitlab", config: { host: `127.0.0.1:${listener.port}` } };
      for (const bundle of [expired("https://gitlab.com/oauth/token"), expired()]) {
        await storeCredential(db, key, { tenantId, locator: "consent:gitlab", kind: "consent", bundle, expiresAt: null });
        const r = await resolver.resolve("consent:gitlab", ctx);
        expect(r).toMatchObject({ ok: false, error: { kind: "consent_required", message: expect.stringContaining("this source's OAuth app must be configured by an operator/admin (set OAUTH_GITLAB_AUTHORIZE_URL and OAUTH_GITLAB_TOKEN_URL)") } });
        expect(JSON.stringify(r)).not.toMatch(/rt-must-not-leak|gl-secret-never-sent/);
      }
      expect(listener.hits()).toBe(0);
      // the start of a consent is refused the same way, in words
      expect(consentProviderFor("gitlab", { host: `127.0.0.1:${listener.port}` }, envFor)).toEqual({
        ok: false,
        error: "The authorization URL of this source cannot be taken from the connection's configuration: this source's OAuth app must be configured by an operator/admin (set OAUTH_GITLAB_AUTHORIZE_URL and OAUTH_GITLAB_TOKEN_URL)",
      });
    } finally {
      await listener.close();
    }
  });

  it("tokens consented at one endpoint are not handed to a connection whose config resolves to another (Zendesk subdomain)", async () => {
    await storeCredential(db, key, { tenantId, locator: "consent:zendesk", kind: "consent", bundle: { access_token: "at-acme", token_url: "https://acme.zendesk.com/oauth/tokens" }, expiresAt: null });
    const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: perInstance });
    const acme = await resolver.resolve("consent:zendesk", { tenantId, connectionId: "c1", sourceType: "zendesk", config: { subdomain: "acme" } });
    // the adapter gets the tokens, not the binding
    expect(acme).toEqual({ ok: true, value: { access_token: "at-acme" } });
    const other = await resolver.resolve("consent:zendesk", { tenantId, connectionId: "c2", sourceType: "zendesk", config: { subdomain: "evil" } });
    expect(other).toEqual({ ok: false, error: { kind: "consent_required", message: "the consent for zendesk was given at acme.zendesk.com, and this connection's configuration points to evil.zendesk.com: an admin must approve access for it at /connections/c2/consent" } });
  });

  it("the install's client of a per-instance vendor serves only the instance OAUTH_<P>_INSTANCE names: another subdomain gets neither its secret nor its tokens", async () => {
    const base = { OAUTH_ZENDESK_CLIENT_ID: "zd", OAUTH_ZENDESK_CLIENT_SECRET: "zd-secret-never-sent" };
    // registered at one instance, said by no setting: served nowhere, in words
    const unsaid = consentProviderFor("zendesk", { subdomain: "acme" }, base);
    expect(unsaid).toEqual({ ok: false, error: expect.stringContaining("OAUTH_ZENDESK_INSTANCE does not say which") });
    // unset, it serves the one instance the catalog's defaults name, where there is one: GitLab.com, Datadog's US1 site
    const gitlab = { OAUTH_GITLAB_CLIENT_ID: "gl", OAUTH_GITLAB_CLIENT_SECRET: "gl-secret" };
    expect(consentProviderFor("gitlab", {}, gitlab)).toMatchObject({ ok: true, value: { tokenUrl: "https://gitlab.com/oauth/token" } });
    const datadog = { OAUTH_DATADOG_CLIENT_ID: "dd", OAUTH_DATADOG_CLIENT_SECRET: "dd-secret" };
    expect(consentProviderFor("datadog", {}, datadog)).toMatchObject({ ok: true, value: { tokenUrl: "https://api.datadoghq.com/oauth2/v1/token" } });
    expect(consentProviderFor("datadog", { site: "datadoghq.eu" }, datadog)).toEqual({ ok: false, error: expect.stringContaining("belongs to api.datadoghq.com") });
    expect(consentProviderFor("datadog", { site: "datadoghq.eu" }, { ...datadog, OAUTH_DATADOG_INSTANCE: "api.datadoghq.eu" })).toMatchObject({ ok: true, value: { tokenUrl: "https://api.datadoghq.eu/oauth2/v1/token" } });
    // a URL where a host goes is a setting error that names the variable
    expect(consentProviderFor("zendesk", { subdomain: "acme" }, { ...base, OAUTH_ZENDESK_INSTANCE: "https://acme.zendesk.com/" })).toEqual({ ok: false, error: "Invalid OAuth configuration: OAUTH_ZENDESK_INSTANCE" });
    expect(consentProviderFor("zendesk", { subdomain: "acme" }, { ...base, OAUTH_ZENDESK_INSTANCE: "ACME.zendesk.com" })).toMatchObject({ ok: true, value: { tokenUrl: "https://acme.zendesk.com/oauth/tokens", clientSecret: "zd-secret-never-sent" } });
    // an API key re-posting the connection with another subdomain (a Zendesk of the attacker's own) gets nothing to send
    for (const subdomain of ["evil", "acme-evil", "acmezendesk"]) {
      const r = consentProviderFor("zendesk", { subdomain }, { ...base, OAUTH_ZENDESK_INSTANCE: "acme.zendesk.com" });
      expect(r).toEqual({ ok: false, error: `No OAuth app is registered for Zendesk Support at ${subdomain}.zendesk.com: the install's client (OAUTH_ZENDESK_CLIENT_ID) belongs to acme.zendesk.com, so an admin adds this instance's OAuth app under Settings → OAuth apps` });
    }
    // nor with the operator's token URL override: one endpoint for every instance would otherwise make the consent's endpoint binding meaningless
    const overridden = { ...base, OAUTH_ZENDESK_INSTANCE: "acme.zendesk.com", OAUTH_ZENDESK_TOKEN_URL: "https://acme.zendesk.com/oauth/tokens" };
    expect(consentProviderFor("zendesk", { subdomain: "evil" }, overridden).ok).toBe(false);
    // an expired consent of an evil connection is neither refreshed nor handed out: the lookup refuses before any request
    await storeCredential(db, key, { tenantId, locator: "consent:zendesk", kind: "consent", bundle: expired("https://evil.zendesk.com/oauth/tokens"), expiresAt: null });
    const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: providers });
    const r = await resolver.resolve("consent:zendesk", { tenantId, connectionId: "c-evil", sourceType: "zendesk", config: { subdomain: "evil" } });
    expect(r).toMatchObject({ ok: false, error: { kind: "consent_required", message: expect.stringContaining("belongs to acme.zendesk.com") } });
    expect(JSON.stringify(r)).not.toMatch(/rt-must-not-leak|zd-secret-never-sent|at-old/);
  });

  it("the code exchange goes through the egress guard (pinned transport): a token host it cannot vet gets nothing", async () => {
    const id = await awaitingConnection();
    const listener = await trap();
    try {
      // not a literal loopback name: the guard must resolve and vet it first, and it does not resolve (token-endpoint.test.ts covers a name resolving to a private address)
      const providers = providerFor({ tokenUrl: `http://localhost.localdomain.invalid:${listener.port}/token`, tokenOrigin: "catalog" });
      const callback = await authorize(await start(id, { providers }));
      const r = await completeConsent(deps({ providers }), { tenantId, userId: ADMIN_ID, callbackUrl: callback });
      expect(r).toMatchObject({ ok: false, error: { code: "exchange_failed" } });
      expect(listener.hits()).toBe(0);
    } finally {
      await listener.close();
    }
  });
});

describe("consentProviderFor", () => {
  const github = { OAUTH_GITHUB_CLIENT_ID: "gh-client", OAUTH_GITHUB_CLIENT_SECRET: "gh-secret" };

  it("takes URLs and read-only scopes from the catalog and the client from OAUTH_<PROVIDER>_*", () => {
    expect(consentProviderFor("github", {}, github)).toEqual(
      ok({
        provider: "github",
        displayName: "GitHub",
        authorizeUrl: "https://github.com/login/oauth/authorize",
        tokenUrl: "https://github.com/login/oauth/access_token",
        issuer: "https://github.com",
        clientId: "gh-client",
        clientSecret: "gh-secret",
        scopes: ["read:org", "read:user"],
        scopeSeparator: " ",
        authorizeParams: {},
        resource: undefined,
        tokenOrigin: "catalog",
        // GitHub's catalog quirks: client_id/secret in the body, no PKCE
        tokenAuth: "client_secret_post",
        pkce: true,
      }),
    );
  });

  it("lets the environment point a provider at another authorization server", () => {
    const r = consentProviderFor("github", {}, { ...github, OAUTH_GITHUB_AUTHORIZE_URL: "http://127.0.0.1:4650/auth", OAUTH_GITHUB_TOKEN_URL: "http://127.0.0.1:4650/token", OAUTH_GITHUB_RESOURCE: "urn:aam:sandbox" });
    expect(r).toMatchObject({ ok: true, value: { authorizeUrl: "http://127.0.0.1:4650/auth", tokenUrl: "http://127.0.0.1:4650/token", issuer: "http://127.0.0.1:4650", resource: "urn:aam:sandbox", scopes: ["read:org", "read:user"] } });
  });

  it("interpolates host-like config values and refuses anything that could redirect the code or the secret", () => {
    const zendesk = { OAUTH_ZENDESK_CLIENT_ID: "z", OAUTH_ZENDESK_CLIENT_SECRET: "s", OAUTH_ZENDESK_INSTANCE: "acme.zendesk.com" };
    expect(consentProviderFor("zendesk", { subdomain: "acme" }, zendesk)).toMatchObject({ ok: true, value: { tokenUrl: "https://acme.zendesk.com/oauth/tokens" } });
    const evil = consentProviderFor("zendesk", { subdomain: "evil.example/x?" }, zendesk);
    expect(evil.ok).toBe(false);
    expect(consentProviderFor("zendesk", { subdomain: "a@evil.example" }, zendesk).ok).toBe(false);
    expect(consentProviderFor("github", {}, { ...github, OAUTH_GITHUB_TOKEN_URL: "http://auth.example.com/token" })).toEqual({ ok: false, error: "The token URL must use https" });
  });

  it("keeps OAuth client secrets out of reach of env: locators", async () => {
    expect(parseLocator("env:OAUTH_GITHUB_CLIENT_SECRET").ok).toBe(false);
    expect(parseLocator("env:SANDBOX_INTROSPECTION_CLIENT_SECRET").ok).toBe(false);
    expect(parseLocator("env:OAUTH_GITHUB_CLIENT_ID").ok).toBe(true);
  });

  it("says in words what is missing", () => {
    expect(consentProviderFor("github", {}, {})).toEqual({ ok: false, error: "No OAuth client is configured for GitHub: the server needs OAUTH_GITHUB_CLIENT_ID and OAUTH_GITHUB_CLIENT_SECRET" });
    expect(consentProviderFor("myspace", {}, {})).toEqual({ ok: false, error: '"myspace" is not a connector in the catalog, so there is no OAuth sign-in for consent:myspace' });
    const r = consentProviderFor("github", {}, { ...github, OAUTH_GITHUB_TOKEN_URL: "not a url" });
    expect(r).toEqual({ ok: false, error: "Invalid OAuth configuration: OAUTH_GITHUB_TOKEN_URL" });
  });

  it("describes a pending consent for the consent page without any secret", async () => {
    const id = await awaitingConnection();
    const d = await describeConsent({ db, encryptionKey: key, providers: (name, config) => consentProviderFor(name, config, github) }, tenantId, id);
    expect(d).toMatchObject({ connectionId: id, provider: "github", displayName: "GitHub", scopes: ["read:org", "read:user"], authorizationHost: "github.com", blocked: null });
    expect(JSON.stringify(d)).not.toContain("gh-secret");
    const unconfigured = await describeConsent({ db, encryptionKey: key, providers: (name, config) => consentProviderFor(name, config, {}) }, tenantId, id);
    expect(unconfigured?.blocked).toBe("No OAuth client is configured for GitHub: the server needs OAUTH_GITHUB_CLIENT_ID and OAUTH_GITHUB_CLIENT_SECRET");
    expect(unconfigured?.scopes).toEqual(["read:org", "read:user"]);
  });
});

describe("the HTTP sandbox with introspection", () => {
  it("accepts a consent-issued token that the authorization server reports active, and nothing else", async () => {
    const id = await awaitingConnection();
    expect((await completeConsent(deps(), { tenantId, userId: ADMIN_ID, callbackUrl: await authorize(await start(id)) })).ok).toBe(true);
    const stored = await loadCredential(db, key, tenantId, "consent:github", new Date());
    const accessToken = stored.ok && stored.value ? stored.value.bundle.access_token! : "";
    const sandbox = await startHttpSandbox({
      acceptToken: introspectionAcceptor({ url: `${idp.issuer}/token/introspection`, clientId: idp.serviceClient.clientId, clientSecret: idp.serviceClient.clientSecret }),
    });
    try {
      const get = (token: string) => fetch(`${sandbox.urlFor("github")}/user`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
      expect(await get(accessToken)).toBe(200);
      expect(await get(sandbox.token)).toBe(200);
      expect(await get(`${accessToken}x`)).toBe(401);
      expect(await get("made-up-token")).toBe(401);
    } finally {
      await sandbox.close();
    }
  });
});
