/**
 * The resolver end to end against real PostgreSQL, a Vault stand-in and a real OAuth server.
 * Needs DATABASE_URL (npm test provides a migrated database).
 */
import { testEnv } from "../../tests/helpers/env";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as oauth from "oauth4webapi";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import { resetEnvForTests } from "../env";
import { createTestTenant, testDb } from "../../tests/helpers/db";
import { startOAuthServer, type OAuthServer } from "../../tests/helpers/oauth-server";
import { startVaultServer, type VaultServer } from "../../tests/helpers/vault-server";
import { getCredentialRecord, upsertCredentialRecord } from "./credential-repository";
import { consentPath, createCredentialResolver, CredentialResolverError, parseEncryptionKey, storeCredential } from "./resolver";
import type { ResolveContext } from "./types";

let db: Db;
let tenantId: string;
const key = parseEncryptionKey(randomBytes(32).toString("hex"));
const ctx = (extra: Partial<ResolveContext> = {}): ResolveContext => ({ tenantId, connectionId: "conn-1", sourceType: "google_drive", config: {}, ...extra });

beforeAll(async () => {
  db = testDb();
  tenantId = await createTestTenant(db, "creds");
});
afterAll(async () => {
  await db?.$disconnect();
});

describe("invalid locators", () => {
  it("are an invalid_locator failure with the grammar problem", async () => {
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("ftp:x", ctx());
    expect(r).toEqual({ ok: false, error: { kind: "invalid_locator", message: 'invalid credential locator: unknown credential locator scheme "ftp" (expected vault:, env:, consent: or sp:)' } });
  });
});

describe("env: locators", () => {
  afterEach(() => {
    delete testEnv.AAM_TEST_PG_PASSWORD;
    delete testEnv.AAM_TEST_PG_BUNDLE;
  });

  it("resolves a plain value to { token }", async () => {
    testEnv.AAM_TEST_PG_PASSWORD = "pw-from-env-1";
    expect(await createCredentialResolver({ db }).resolve("env:AAM_TEST_PG_PASSWORD", ctx())).toEqual({ ok: true, value: { token: "pw-from-env-1" } });
  });

  it("resolves a JSON object of strings to that bundle, and other JSON to { token }", async () => {
    testEnv.AAM_TEST_PG_BUNDLE = JSON.stringify({ user: "app", password: "pw-2" });
    expect(await createCredentialResolver({ db }).resolve("env:AAM_TEST_PG_BUNDLE", ctx())).toEqual({ ok: true, value: { user: "app", password: "pw-2" } });
    testEnv.AAM_TEST_PG_BUNDLE = JSON.stringify({ user: "app", port: 5432 });
    expect(await createCredentialResolver({ db }).resolve("env:AAM_TEST_PG_BUNDLE", ctx())).toEqual({ ok: true, value: { token: '{"user":"app","port":5432}' } });
  });

  it("is missing when the variable is unset or empty", async () => {
    const expected = { ok: false, error: { kind: "missing", message: "environment variable AAM_TEST_PG_PASSWORD is not set" } };
    expect(await createCredentialResolver({ db }).resolve("env:AAM_TEST_PG_PASSWORD", ctx())).toEqual(expected);
    testEnv.AAM_TEST_PG_PASSWORD = "";
    expect(await createCredentialResolver({ db }).resolve("env:AAM_TEST_PG_PASSWORD", ctx())).toEqual(expected);
  });
});

describe("vault: locators", () => {
  let vault: VaultServer;
  const saved = { ...testEnv };
  beforeAll(async () => {
    vault = await startVaultServer({ mount: "kv" });
    vault.put("apps/pg", { username: "app", password: "vault-pw-1" });
  });
  afterAll(async () => {
    await vault.close();
  });
  afterEach(() => {
    for (const k of ["VAULT_ADDR", "VAULT_TOKEN", "VAULT_KV_MOUNT", "VAULT_NAMESPACE", "VAULT_ROLE_ID", "VAULT_SECRET_ID"]) {
      if (saved[k] === undefined) delete testEnv[k];
      else testEnv[k] = saved[k];
    }
    resetEnvForTests();
  });

  it("reads Vault as configured by VAULT_ADDR, VAULT_TOKEN and VAULT_KV_MOUNT", async () => {
    Object.assign(testEnv, { VAULT_ADDR: vault.url, VAULT_TOKEN: vault.token, VAULT_KV_MOUNT: "kv" });
    delete testEnv.VAULT_NAMESPACE;
    resetEnvForTests();
    const r = createCredentialResolver({ db });
    expect(await r.resolve("vault:apps/pg#password", ctx())).toEqual({ ok: true, value: { password: "vault-pw-1" } });
    expect(await r.resolve("vault:apps/pg", ctx())).toEqual({ ok: true, value: { username: "app", password: "vault-pw-1" } });
  });

  it("is missing with a configuration hint when VAULT_ADDR is unset", async () => {
    delete testEnv.VAULT_ADDR;
    resetEnvForTests();
    expect(await createCredentialResolver({ db }).resolve("vault:apps/pg", ctx())).toEqual({ ok: false, error: { kind: "missing", message: "Vault is not configured: set VAULT_ADDR" } });
  });
});

describe("consent: locators", () => {
  it("asks for consent, naming the connection's consent page, until tokens are stored", async () => {
    const r = createCredentialResolver({ db, encryptionKey: key });
    const first = await r.resolve("consent:google", ctx({ connectionId: "c-42" }));
    expect(first).toEqual({ ok: false, error: { kind: "consent_required", message: "admin consent for google is required: an admin must approve access at /connections/c-42/consent" } });
    expect(consentPath("c-42")).toBe("/connections/c-42/consent");

    await storeCredential(db, key, { tenantId, locator: "consent:google", kind: "consent", bundle: { access_token: "at-google-1", refresh_token: "rt-google-1" }, expiresAt: new Date(Date.now() + 3_600_000) });
    expect(await r.resolve("consent:google", ctx({ connectionId: "c-42" }))).toEqual({ ok: true, value: { access_token: "at-google-1", refresh_token: "rt-google-1" } });
  });

  it("stores tokens encrypted, never in clear text", async () => {
    await storeCredential(db, key, { tenantId, locator: "consent:box", kind: "consent", bundle: { access_token: "at-box-plaintext-marker" }, expiresAt: null });
    const row = await getCredentialRecord(db, tenantId, "consent:box");
    expect(row).not.toBeNull();
    expect(row!.ciphertext.toString("latin1")).not.toContain("at-box-plaintext-marker");
    expect(row!.keyId).toBe(key.id);
    expect(row!.iv.length).toBe(12);
  });

  it("replaces the stored tokens in place when consent is given again", async () => {
    const r = createCredentialResolver({ db, encryptionKey: key });
    await storeCredential(db, key, { tenantId, locator: "consent:hubspot", kind: "consent", bundle: { access_token: "at-old" }, expiresAt: null });
    await storeCredential(db, key, { tenantId, locator: "consent:hubspot", kind: "consent", bundle: { access_token: "at-new" }, expiresAt: null });
    expect(await r.resolve("consent:hubspot", ctx())).toEqual({ ok: true, value: { access_token: "at-new" } });
    expect(await db.credential.count({ where: { tenantId, locator: "consent:hubspot" } })).toBe(1);
  });

  it("asks for consent again once the stored tokens have expired", async () => {
    const t0 = new Date("2030-01-01T00:00:00Z");
    await storeCredential(db, key, { tenantId, locator: "consent:slack", kind: "consent", bundle: { access_token: "at-slack" }, expiresAt: new Date(t0.getTime() + 60_000) });
    const at = (ms: number) => createCredentialResolver({ db, encryptionKey: key, now: () => new Date(t0.getTime() + ms) });
    expect((await at(59_000).resolve("consent:slack", ctx())).ok).toBe(true);
    const later = await at(60_000).resolve("consent:slack", ctx());
    expect(later.ok ? "ok" : later.error.kind).toBe("consent_required");
  });

  it("never hands one tenant's tokens to another, even when the row is copied across", async () => {
    const other = await createTestTenant(db, "creds-other");
    await storeCredential(db, key, { tenantId, locator: "consent:dropbox", kind: "consent", bundle: { access_token: "at-dropbox-tenant-a" }, expiresAt: null });
    const r = createCredentialResolver({ db, encryptionKey: key });
    const notShared = await r.resolve("consent:dropbox", { ...ctx(), tenantId: other });
    expect(notShared.ok ? "ok" : notShared.error.kind).toBe("consent_required");

    const row = (await getCredentialRecord(db, tenantId, "consent:dropbox"))!;
    await upsertCredentialRecord(db, { ...row, tenantId: other });
    const copied = await r.resolve("consent:dropbox", { ...ctx(), tenantId: other });
    expect(copied).toEqual({ ok: false, error: { kind: "consent_required", message: expect.stringContaining("could not be read: encrypted record failed authentication") } });
    expect(JSON.stringify(copied)).not.toContain("at-dropbox-tenant-a");
  });

  it("cannot read stored tokens with another encryption key", async () => {
    await storeCredential(db, key, { tenantId, locator: "consent:zoom", kind: "consent", bundle: { access_token: "at-zoom" }, expiresAt: null });
    const other = parseEncryptionKey(randomBytes(32).toString("base64"));
    const r = await createCredentialResolver({ db, encryptionKey: other }).resolve("consent:zoom", ctx());
    expect(r).toEqual({ ok: false, error: { kind: "consent_required", message: expect.stringContaining(`encrypted with a different key (key id ${key.id}`) } });
  });

  it("resolves tokens obtained by a real authorization-code + PKCE flow and saved with storeCredential", async () => {
    const redirectUri = "http://127.0.0.1:39999/callback";
    const idp = await startOAuthServer({ redirectUri, interactions: "approve" });
    try {
      const tokens = await authorizationCodeFlow(idp, redirectUri);
      expect(tokens.scope).toContain("files.read");
      expect(typeof tokens.refresh_token).toBe("string");
      await storeCredential(db, key, {
        tenantId,
        locator: "consent:test-idp",
        kind: "consent",
        bundle: { access_token: tokens.access_token, refresh_token: tokens.refresh_token!, token_type: tokens.token_type },
        expiresAt: new Date(Date.now() + tokens.expires_in! * 1000),
      });
      const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("consent:test-idp", ctx());
      expect(r).toEqual({ ok: true, value: { access_token: tokens.access_token, refresh_token: tokens.refresh_token, token_type: tokens.token_type } });
    } finally {
      await idp.close();
    }
  });
});

describe("sp: locators (OAuth client credentials)", () => {
  let idp: OAuthServer;
  beforeAll(async () => {
    idp = await startOAuthServer({ accessTokenTtl: 600 });
  });
  afterAll(async () => {
    await idp?.close();
  });
  afterEach(() => {
    for (const k of Object.keys(testEnv)) if (k.startsWith("SP_CRM_BOT_") || k.startsWith("SP_NOBODY_")) delete testEnv[k];
  });
  const configure = (secret = idp.serviceClient.clientSecret) => Object.assign(testEnv, { SP_CRM_BOT_CLIENT_ID: idp.serviceClient.clientId, SP_CRM_BOT_CLIENT_SECRET: secret });

  it("gets a token with the catalog's read-only scopes and caches it encrypted until 60 s before expiry", async () => {
    configure();
    const sp = await createTestTenant(db, "sp");
    let clock = Date.now();
    const r = createCredentialResolver({ db, encryptionKey: key, now: () => new Date(clock) });
    const c = { ...ctx(), tenantId: sp, tokenUrl: idp.tokenUrl, scopes: ["files.read"] };
    const before = idp.tokenRequests();
    const first = await r.resolve("sp:crm-bot", c);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.value).toEqual({ access_token: expect.any(String), token_type: "bearer" });
    expect(idp.tokenRequests()).toBe(before + 1);

    // The provider granted exactly the requested read-only scope.
    const introspected = await introspect(idp, first.value.access_token!);
    expect(introspected).toMatchObject({ active: true, scope: "files.read", client_id: idp.serviceClient.clientId });

    // A second resolver (another worker) reuses the cached token through the database.
    const again = await createCredentialResolver({ db, encryptionKey: key, now: () => new Date(clock) }).resolve("sp:crm-bot", c);
    expect(again).toEqual(first);
    expect(idp.tokenRequests()).toBe(before + 1);
    const rows = await db.credential.findMany({ where: { tenantId: sp }, select: { locator: true, kind: true, ciphertext: true, expiresAt: true } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.locator).toMatch(/^sp:crm-bot@[0-9a-f]{16}$/);
    expect(rows[0]!.kind).toBe("sp_token");
    expect(Buffer.from(rows[0]!.ciphertext).toString("latin1")).not.toContain(first.value.access_token);
    expect(rows[0]!.expiresAt!.getTime()).toBeCloseTo(clock + (600 - 60) * 1000, -4);

    // Other scopes are a different token.
    const wider = await r.resolve("sp:crm-bot", { ...c, scopes: ["files.read", "records.read"] });
    expect(wider.ok && wider.value.access_token).not.toBe(first.value.access_token);
    expect(idp.tokenRequests()).toBe(before + 2);

    clock += (600 - 60) * 1000;
    const renewed = await r.resolve("sp:crm-bot", c);
    expect(renewed.ok && renewed.value.access_token).not.toBe(first.value.access_token);
    expect(idp.tokenRequests()).toBe(before + 3);
  });

  it("prefers config.token_url over the catalog's token URL", async () => {
    configure();
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:crm-bot", { ...ctx(), tokenUrl: "http://127.0.0.1:9/token", config: { token_url: idp.tokenUrl } });
    expect(r.ok).toBe(true);
  });

  it("is unreadable when the client secret is wrong, without echoing it", async () => {
    configure("wrong-client-secret-value");
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:crm-bot", { ...ctx(), tokenUrl: idp.tokenUrl, scopes: ["files.read"] });
    expect(r).toEqual({ ok: false, error: { kind: "unreadable", message: "service principal crm-bot was rejected by the token endpoint (invalid_client: check its client id and secret)" } });
  });

  it("is missing without client id/secret or without a token URL", async () => {
    const r = createCredentialResolver({ db, encryptionKey: key });
    expect(await r.resolve("sp:nobody", { ...ctx(), tokenUrl: idp.tokenUrl })).toEqual({ ok: false, error: { kind: "missing", message: "service principal nobody is not configured: set SP_NOBODY_CLIENT_ID and SP_NOBODY_CLIENT_SECRET" } });
    configure();
    expect(await r.resolve("sp:crm-bot", ctx())).toEqual({ ok: false, error: { kind: "missing", message: expect.stringMatching(/^service principal crm-bot has no token URL/) } });
  });

  it("refuses to send the client secret over plain http to another machine", async () => {
    configure();
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:crm-bot", { ...ctx(), config: { token_url: "http://idp.example.com/token" } });
    expect(r).toEqual({ ok: false, error: { kind: "unreadable", message: "service principal crm-bot: token URL must use https" } });
  });

  it("is unreadable when the token endpoint is down", async () => {
    configure();
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:crm-bot", { ...ctx(), tokenUrl: `http://127.0.0.1:${await closedPort()}/token` });
    expect(r).toEqual({ ok: false, error: { kind: "unreadable", message: "token endpoint is unreachable (ECONNREFUSED)" } });
  });
});

describe("secrets never appear in failure messages", () => {
  let echo: { url: string; close: () => Promise<void> };
  const vaultToken = "hvs.super-secret-vault-token";
  const clientSecret = "sp-client-secret-that-must-not-leak";
  beforeAll(async () => {
    // An upstream that echoes back whatever credentials it was sent, as some real error pages do.
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const sent = `${req.headers["x-vault-token"] ?? ""} ${req.headers.authorization ?? ""} ${Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString()} ${body}`;
        res.writeHead(req.url!.startsWith("/v1/") ? 500 : 400, { "content-type": "application/json" });
        res.end(JSON.stringify(req.url!.startsWith("/v1/") ? { errors: [`internal error for token ${sent}`] } : { error: "invalid_request", error_description: `bad credentials ${sent}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    echo = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
  });
  afterAll(async () => {
    await echo.close();
    delete testEnv.SP_ECHO_CLIENT_ID;
    delete testEnv.SP_ECHO_CLIENT_SECRET;
  });

  it("redacts a Vault token echoed by Vault", async () => {
    const r = await createCredentialResolver({ db, vaultConfig: () => ({ addr: echo.url, token: vaultToken, mount: "secret" }) }).resolve("vault:a", ctx());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe("unreadable");
    expect(r.error.message).toMatch(/^reading Vault secret secret\/a failed \(HTTP 500: internal error for token \[redacted\]/);
    expect(r.error.message).not.toContain(vaultToken);
  });

  it("does not repeat a client secret that the token endpoint echoes back", async () => {
    Object.assign(testEnv, { SP_ECHO_CLIENT_ID: "echo-client", SP_ECHO_CLIENT_SECRET: clientSecret });
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:echo", { ...ctx(), tokenUrl: `${echo.url}/token` });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toMatch(/^token endpoint refused service principal echo \(invalid_request, HTTP 400\)/);
    expect(JSON.stringify(r)).not.toContain(clientSecret);
    expect(JSON.stringify(r)).not.toContain(encodeURIComponent(clientSecret));
  });

  it("rethrows unexpected errors redacted and without the original as cause", async () => {
    testEnv.SP_ECHO_CLIENT_ID = "echo-client";
    testEnv.SP_ECHO_CLIENT_SECRET = clientSecret;
    const broken = new Proxy(db, {
      get: (t, p) => (p === "credential" ? { findUnique: () => Promise.reject(new Error(`connection lost while reading client_secret=${clientSecret}`)) } : Reflect.get(t, p)),
    });
    const r = createCredentialResolver({ db: broken, encryptionKey: key }).resolve("sp:echo", { ...ctx(), tokenUrl: `${echo.url}/token` });
    await expect(r).rejects.toThrow(CredentialResolverError);
    const e = (await r.catch((x: unknown) => x)) as Error;
    expect(e.message).toBe("credential resolution failed: connection lost while reading client_secret=[redacted]");
    expect(e.cause).toBeUndefined();
  });
});

/** A port nothing listens on (fetch refuses "bad ports" such as 9 before connecting). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function introspect(idp: OAuthServer, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${idp.issuer}/token/introspection`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${idp.serviceClient.clientId}:${idp.serviceClient.clientSecret}`).toString("base64")}` },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

/** Drives the browser part of the code flow with fetch: follows redirects, keeping the provider's cookies. */
async function authorizationCodeFlow(idp: OAuthServer, redirectUri: string): Promise<oauth.TokenEndpointResponse> {
  const as = await oauth.processDiscoveryResponse(new URL(idp.issuer), await oauth.discoveryRequest(new URL(idp.issuer), { [oauth.allowInsecureRequests]: true }));
  const client: oauth.Client = { client_id: idp.consentClient.clientId };
  const auth = oauth.ClientSecretBasic(idp.consentClient.clientSecret);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const authorize = new URL(as.authorization_endpoint!);
  authorize.search = new URLSearchParams({ client_id: client.client_id, redirect_uri: redirectUri, response_type: "code", scope: "openid files.read", state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256" }).toString();
  const cookies = new Map<string, string>();
  let url = authorize.href;
  for (let hop = 0; hop < 10 && !url.startsWith(redirectUri); hop++) {
    const res = await fetch(url, { redirect: "manual", headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    const location = res.headers.get("location");
    if (!location) throw new Error(`authorization stopped at ${url} with HTTP ${res.status}`);
    url = new URL(location, url).href;
  }
  const params = oauth.validateAuthResponse(as, client, new URL(url), state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, verifier, { [oauth.allowInsecureRequests]: true });
  return oauth.processAuthorizationCodeResponse(as, client, response);
}
