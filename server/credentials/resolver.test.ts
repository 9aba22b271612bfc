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
import { parseEnv, resetEnvForTests } from "../env";
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
    for (const k of Object.keys(testEnv)) if (k.startsWith("AAM_SECRET_TEST_") || k.startsWith("AAM_SECRET_CREDS")) delete testEnv[k];
    resetEnvForTests();
  });

  it("resolves a plain value to { token }", async () => {
    testEnv.AAM_SECRET_TEST_PG_PASSWORD = "pw-from-env-1";
    expect(await createCredentialResolver({ db }).resolve("env:AAM_SECRET_TEST_PG_PASSWORD", ctx())).toEqual({ ok: true, value: { token: "pw-from-env-1" } });
  });

  it("resolves a JSON object of strings to that bundle, and other JSON to { token }", async () => {
    testEnv.AAM_SECRET_TEST_PG_BUNDLE = JSON.stringify({ user: "app", password: "pw-2" });
    expect(await createCredentialResolver({ db }).resolve("env:AAM_SECRET_TEST_PG_BUNDLE", ctx())).toEqual({ ok: true, value: { user: "app", password: "pw-2" } });
    testEnv.AAM_SECRET_TEST_PG_BUNDLE = JSON.stringify({ user: "app", port: 5432 });
    expect(await createCredentialResolver({ db }).resolve("env:AAM_SECRET_TEST_PG_BUNDLE", ctx())).toEqual({ ok: true, value: { token: '{"user":"app","port":5432}' } });
  });

  it("is missing when the variable is unset or empty", async () => {
    const expected = { ok: false, error: { kind: "missing", message: "environment variable AAM_SECRET_TEST_PG_PASSWORD is not set" } };
    expect(await createCredentialResolver({ db }).resolve("env:AAM_SECRET_TEST_PG_PASSWORD", ctx())).toEqual(expected);
    testEnv.AAM_SECRET_TEST_PG_PASSWORD = "";
    expect(await createCredentialResolver({ db }).resolve("env:AAM_SECRET_TEST_PG_PASSWORD", ctx())).toEqual(expected);
  });

  it("never resolves the app's own or the machine's variables, even when they are set", async () => {
    const names = [
      "DATABASE_URL", "AUTH_SECRET", "ENCRYPTION_KEY", "SEED_ADMIN_PASSWORD", "SEED_API_KEY", "SEED_EXEC_PASSWORD", "SSO_CLIENT_SECRET", "SSO_CLIENT_ID",
      "SP_CRM_BOT_CLIENT_SECRET", "SP_X__Y_CLIENT_ID", "PGPASSWORD", "PGHOST", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "HOME", "PATH",
      "VAULT_TOKEN", "OAUTH_GITHUB_CLIENT_SECRET", "TEST_PG_SERVER_URL", "AAM_TEST_NOT_UNDER_PREFIX", "SANDBOX_TOKEN",
    ];
    const saved = Object.fromEntries(names.map((n) => [n, testEnv[n]]));
    try {
      for (const n of names) testEnv[n] ??= `value-of-${n}-must-not-leak`;
      const r = createCredentialResolver({ db, encryptionKey: key, envPolicy: () => ({ prefix: "AAM_SECRET_", sandboxRunning: false }) });
      for (const n of names) {
        const out = await r.resolve(`env:${n}`, ctx());
        expect(out.ok, n).toBe(false);
        expect(JSON.stringify(out)).not.toContain(testEnv[n]!);
      }
    } finally {
      for (const n of names) if (saved[n] === undefined) delete testEnv[n];
    }
  });

  it("resolves the sandboxes' own variables only while the sandboxes run", async () => {
    const had = testEnv.SANDBOX_TOKEN;
    testEnv.SANDBOX_TOKEN = "sandbox-token-1";
    try {
      const off = await createCredentialResolver({ db, envPolicy: () => ({ prefix: "AAM_SECRET_", sandboxRunning: false }) }).resolve("env:SANDBOX_TOKEN", ctx());
      expect(off).toMatchObject({ ok: false, error: { kind: "missing", message: expect.stringMatching(/^env:SANDBOX_TOKEN cannot be used: env: locators read only variables named AAM_SECRET_<NAME>/) } });
      const on = await createCredentialResolver({ db, envPolicy: () => ({ prefix: "AAM_SECRET_", sandboxRunning: true }) }).resolve("env:SANDBOX_TOKEN", ctx());
      expect(on).toEqual({ ok: true, value: { token: "sandbox-token-1" } });
      // the sandbox list is exact: other SANDBOX_* names stay closed
      testEnv.SANDBOX_INTROSPECTION_URL ??= "http://127.0.0.1:1/x";
      const other = await createCredentialResolver({ db, envPolicy: () => ({ prefix: "AAM_SECRET_", sandboxRunning: true }) }).resolve("env:SANDBOX_INTROSPECTION_URL", ctx());
      expect(other.ok).toBe(false);
    } finally {
      if (had === undefined) delete testEnv.SANDBOX_TOKEN;
      else testEnv.SANDBOX_TOKEN = had;
    }
  });

  it("keeps AAM_SECRET_<TENANT>__<NAME> to that tenant; another tenant cannot read it", async () => {
    const slug = (await db.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: { slug: true } })).slug;
    const own = `AAM_SECRET_${slug.toUpperCase().replace(/-/g, "_")}__PG_PASSWORD`;
    testEnv[own] = "tenant-a-only";
    try {
      const r = createCredentialResolver({ db });
      expect(await r.resolve(`env:${own}`, ctx())).toEqual({ ok: true, value: { token: "tenant-a-only" } });
      const other = await createTestTenant(db, "creds-b");
      const foreign = await r.resolve(`env:${own}`, { ...ctx(), tenantId: other });
      expect(foreign).toMatchObject({ ok: false, error: { kind: "missing" } });
      expect(JSON.stringify(foreign)).not.toContain("tenant-a-only");
    } finally {
      delete testEnv[own];
    }
  });

  it("reads SECRET_ENV_PREFIX, and refuses an empty, short or overlapping prefix at start-up", async () => {
    testEnv.AAM_SECRET_TEST_X = "under-default-prefix";
    testEnv.ACME_VAULTLESS_X = "under-custom-prefix";
    try {
      expect(parseEnv({ SECRET_ENV_PREFIX: "ACME_VAULTLESS_" }).SECRET_ENV_PREFIX).toBe("ACME_VAULTLESS_");
      const custom = createCredentialResolver({ db, envPolicy: () => ({ prefix: "ACME_VAULTLESS_", sandboxRunning: false }) });
      expect(await custom.resolve("env:ACME_VAULTLESS_X", ctx())).toEqual({ ok: true, value: { token: "under-custom-prefix" } });
      expect((await custom.resolve("env:AAM_SECRET_TEST_X", ctx())).ok).toBe(false);
      expect(parseEnv({}).SECRET_ENV_PREFIX).toBe("AAM_SECRET_");
      for (const bad of ["", " ", "A_", "AAM", "aam_secret_", "SP_", "SEED_X_", "PG_", "AWS_", "S_", "SSO_SECRETS_", "AAM_SECRET"]) {
        expect(() => parseEnv({ SECRET_ENV_PREFIX: bad }), JSON.stringify(bad)).toThrow(/SECRET_ENV_PREFIX/);
      }
    } finally {
      delete testEnv.AAM_SECRET_TEST_X;
      delete testEnv.ACME_VAULTLESS_X;
    }
  });
});

describe("vault: locators", () => {
  let vault: VaultServer;
  const saved = { ...testEnv };
  beforeAll(async () => {
    vault = await startVaultServer({ mount: "kv" });
    const { slug } = await db.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: { slug: true } });
    vault.put(`aam/tenants/${slug}/apps/pg`, { username: "app", password: "vault-pw-1" });
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

  it("confines paths to the tenant's folder: tenant B cannot resolve tenant A's path, and learns nothing about it", async () => {
    Object.assign(testEnv, { VAULT_ADDR: vault.url, VAULT_TOKEN: vault.token, VAULT_KV_MOUNT: "kv" });
    delete testEnv.VAULT_NAMESPACE;
    resetEnvForTests();
    const r = createCredentialResolver({ db });
    const a = await db.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: { slug: true } });
    const other = await createTestTenant(db, "creds-vault-b");
    const b = await db.tenant.findUniqueOrThrow({ where: { id: other }, select: { slug: true } });
    const seen = vault.requests.length;
    const asB = await r.resolve("vault:apps/pg#password", { ...ctx(), tenantId: other });
    const asBmissing = await r.resolve("vault:apps/never-there#password", { ...ctx(), tenantId: other });
    expect(asB).toEqual({ ok: false, error: { kind: "missing", message: `Vault secret apps/pg is not available to this organisation (it does not exist under kv/aam/tenants/${b.slug}/, or this server's Vault identity may not read it)` } });
    expect(asBmissing.ok ? "" : asBmissing.error.message.replace("never-there", "pg")).toBe(asB.ok ? "-" : asB.error.message);
    expect(JSON.stringify(asB)).not.toContain("vault-pw-1");
    // B asked only inside its own folder
    expect(vault.requests.slice(seen).map((q) => q.path)).toEqual([`/v1/kv/data/aam/tenants/${b.slug}/apps/pg`, `/v1/kv/data/aam/tenants/${b.slug}/apps/never-there`]);
    // climbing out is refused by the grammar, before Vault is asked
    for (const path of [`../${a.slug}/apps/pg`, `aam/../../${a.slug}/apps/pg`, `/aam/tenants/${a.slug}/apps/pg`, "apps//pg", "%2e%2e/x/apps/pg", "apps/%2Fpg"]) {
      const out = await r.resolve(`vault:${path}#password`, { ...ctx(), tenantId: other });
      expect(out.ok ? "ok" : out.error.kind, path).toBe("invalid_locator");
    }
    expect(vault.requests.length).toBe(seen + 2);
    // a different VAULT_TENANT_PREFIX moves every tenant's folder
    vault.put(`teams/${a.slug}/x`, { token: "under-teams" });
    const custom = createCredentialResolver({ db, vaultTenantPrefix: () => "teams/{tenant}/" });
    expect(await custom.resolve("vault:x", ctx())).toEqual({ ok: true, value: { token: "under-teams" } });
    expect(parseEnv({}).VAULT_TENANT_PREFIX).toBe("aam/tenants/{tenant}/");
    for (const bad of ["aam/tenants/", "../{tenant}/", "{tenant}", "/aam/{tenant}/", "a//{tenant}/"]) expect(() => parseEnv({ VAULT_TENANT_PREFIX: bad }), bad).toThrow(/VAULT_TENANT_PREFIX/);
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

  it("never lends one connector's consent tokens to another source type", async () => {
    await storeCredential(db, key, { tenantId, locator: "consent:box", kind: "consent", bundle: { access_token: "at-box-only" }, expiresAt: null });
    const r = createCredentialResolver({ db, encryptionKey: key });
    const lent = await r.resolve("consent:box", ctx({ sourceType: "github" }));
    expect(lent).toEqual({ ok: false, error: { kind: "missing", message: "consent:box tokens can only be used by box connections, not by this github connection: use consent:github." } });
    expect(await r.resolve("consent:box", ctx({ sourceType: "box" }))).toEqual({ ok: true, value: { access_token: "at-box-only" } });
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
    expect(await r.resolve("consent:hubspot", ctx({ sourceType: "hubspot" }))).toEqual({ ok: true, value: { access_token: "at-new" } });
    expect(await db.credential.count({ where: { tenantId, locator: "consent:hubspot" } })).toBe(1);
  });

  it("asks for consent again once the stored tokens have expired", async () => {
    const t0 = new Date("2030-01-01T00:00:00Z");
    await storeCredential(db, key, { tenantId, locator: "consent:slack", kind: "consent", bundle: { access_token: "at-slack" }, expiresAt: new Date(t0.getTime() + 60_000) });
    const at = (ms: number) => createCredentialResolver({ db, encryptionKey: key, now: () => new Date(t0.getTime() + ms) });
    expect((await at(59_000).resolve("consent:slack", ctx({ sourceType: "slack" }))).ok).toBe(true);
    const later = await at(60_000).resolve("consent:slack", ctx({ sourceType: "slack" }));
    expect(later.ok ? "ok" : later.error.kind).toBe("consent_required");
  });

  it("never hands one tenant's tokens to another, even when the row is copied across", async () => {
    const other = await createTestTenant(db, "creds-other");
    await storeCredential(db, key, { tenantId, locator: "consent:dropbox", kind: "consent", bundle: { access_token: "at-dropbox-tenant-a" }, expiresAt: null });
    const r = createCredentialResolver({ db, encryptionKey: key });
    const notShared = await r.resolve("consent:dropbox", { ...ctx({ sourceType: "dropbox" }), tenantId: other });
    expect(notShared.ok ? "ok" : notShared.error.kind).toBe("consent_required");

    const row = (await getCredentialRecord(db, tenantId, "consent:dropbox"))!;
    await upsertCredentialRecord(db, { ...row, tenantId: other });
    const copied = await r.resolve("consent:dropbox", { ...ctx({ sourceType: "dropbox" }), tenantId: other });
    expect(copied).toEqual({ ok: false, error: { kind: "consent_required", message: expect.stringContaining("could not be read: encrypted record failed authentication") } });
    expect(JSON.stringify(copied)).not.toContain("at-dropbox-tenant-a");
  });

  it("cannot read stored tokens with another encryption key", async () => {
    await storeCredential(db, key, { tenantId, locator: "consent:zoom", kind: "consent", bundle: { access_token: "at-zoom" }, expiresAt: null });
    const other = parseEncryptionKey(randomBytes(32).toString("base64"));
    const r = await createCredentialResolver({ db, encryptionKey: other }).resolve("consent:zoom", ctx({ sourceType: "zoom" }));
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
    for (const k of Object.keys(testEnv)) if (k.startsWith("SP_")) delete testEnv[k];
  });
  /** sp: names are per tenant: a (non-default) tenant's principal lives in SP_<TENANT>__<NAME>_* */
  const stem = async (t: string) => `SP_${(await db.tenant.findUniqueOrThrow({ where: { id: t }, select: { slug: true } })).slug.toUpperCase().replace(/-/g, "_")}__CRM_BOT`;
  const configure = async (secret = idp.serviceClient.clientSecret, t = tenantId, extra: Record<string, string> = {}) => {
    const p = await stem(t);
    Object.assign(testEnv, { [`${p}_SOURCE_TYPES`]: "google_drive", [`${p}_CLIENT_ID`]: idp.serviceClient.clientId, [`${p}_CLIENT_SECRET`]: secret }, Object.fromEntries(Object.entries(extra).map(([k, v]) => [`${p}_${k}`, v])));
  };

  it("gets a token with the catalog's read-only scopes and caches it encrypted until 60 s before expiry", async () => {
    const sp = await createTestTenant(db, "sp");
    await configure(undefined, sp);
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

  it("ignores a config.token_url: the client secret goes only to the catalog's (or the operator's) token URL", async () => {
    await configure();
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:crm-bot", { ...ctx(), tokenUrl: idp.tokenUrl, config: { token_url: "http://127.0.0.1:9/token" } });
    expect(r.ok).toBe(true);
  });

  it("is per tenant: tenant B cannot use tenant A's sp: name", async () => {
    await configure();
    const b = await createTestTenant(db, "sp-b");
    const before = idp.tokenRequests();
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:crm-bot", { ...ctx(), tenantId: b, tokenUrl: idp.tokenUrl });
    expect(r).toEqual({ ok: false, error: { kind: "missing", message: `service principal crm-bot is not configured for this organisation: set ${await stem(b)}_CLIENT_ID and ${await stem(b)}_CLIENT_SECRET` } });
    expect(idp.tokenRequests()).toBe(before);
    // and tenant A's cached token is not B's either
    expect(await db.credential.count({ where: { tenantId: b } })).toBe(0);
  });

  it("is unreadable when the client secret is wrong, without echoing it", async () => {
    await configure("wrong-client-secret-value");
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:crm-bot", { ...ctx(), tokenUrl: idp.tokenUrl, scopes: ["files.read"] });
    expect(r).toEqual({ ok: false, error: { kind: "unreadable", message: "service principal crm-bot was rejected by the token endpoint (invalid_client: check its client id and secret)" } });
  });

  it("is missing without client id/secret or without a token URL", async () => {
    const r = createCredentialResolver({ db, encryptionKey: key });
    const p = (await stem(tenantId)).replace(/CRM_BOT$/, "NOBODY");
    expect(await r.resolve("sp:nobody", { ...ctx(), tokenUrl: idp.tokenUrl })).toEqual({ ok: false, error: { kind: "missing", message: `service principal nobody is not configured for this organisation: set ${p}_CLIENT_ID and ${p}_CLIENT_SECRET` } });
    await configure();
    expect(await r.resolve("sp:crm-bot", ctx())).toEqual({ ok: false, error: { kind: "missing", message: expect.stringMatching(/^service principal crm-bot has no token URL/) } });
  });

  it("refuses to send the client secret over plain http to another machine", async () => {
    await configure(undefined, tenantId, { TOKEN_URL: "http://idp.example.com/token" });
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:crm-bot", ctx());
    expect(r).toEqual({ ok: false, error: { kind: "missing", message: "service principal crm-bot: The token URL must use https" } });
  });

  it("is unreadable when the token endpoint is down", async () => {
    await configure();
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:crm-bot", { ...ctx(), tokenUrl: `http://127.0.0.1:${await closedPort()}/token` });
    expect(r).toEqual({ ok: false, error: { kind: "unreadable", message: "token endpoint is unreachable (ECONNREFUSED)" } });
  });
});

describe("secrets never appear in failure messages", () => {
  let echo: { url: string; close: () => Promise<void> };
  const vaultToken = "hvs.super-secret-vault-token";
  const echoStem = async () => `SP_${(await db.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: { slug: true } })).slug.toUpperCase().replace(/-/g, "_")}__ECHO`;
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
    for (const k of Object.keys(testEnv)) if (k.startsWith("SP_") && k.includes("__ECHO_")) delete testEnv[k];
  });

  it("redacts a Vault token echoed by Vault", async () => {
    const r = await createCredentialResolver({ db, vaultConfig: () => ({ addr: echo.url, token: vaultToken, mount: "secret" }) }).resolve("vault:a", ctx());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe("unreadable");
    expect(r.error.message).toMatch(/^reading Vault secret a failed \(HTTP 500: internal error for token \[redacted\]/);
    expect(r.error.message).not.toContain(vaultToken);
  });

  it("does not repeat a client secret that the token endpoint echoes back", async () => {
    Object.assign(testEnv, { [`${await echoStem()}_SOURCE_TYPES`]: "google_drive", [`${await echoStem()}_CLIENT_ID`]: "echo-client", [`${await echoStem()}_CLIENT_SECRET`]: clientSecret });
    const r = await createCredentialResolver({ db, encryptionKey: key }).resolve("sp:echo", { ...ctx(), tokenUrl: `${echo.url}/token` });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toMatch(/^token endpoint refused service principal echo \(invalid_request, HTTP 400\)/);
    expect(JSON.stringify(r)).not.toContain(clientSecret);
    expect(JSON.stringify(r)).not.toContain(encodeURIComponent(clientSecret));
  });

  it("rethrows unexpected errors redacted and without the original as cause", async () => {
    Object.assign(testEnv, { [`${await echoStem()}_SOURCE_TYPES`]: "google_drive", [`${await echoStem()}_CLIENT_ID`]: "echo-client", [`${await echoStem()}_CLIENT_SECRET`]: clientSecret });
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
