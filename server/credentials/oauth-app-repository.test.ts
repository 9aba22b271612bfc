/**
 * OAuth apps per tenant (issue 10 item 4) against real PostgreSQL: stored encrypted, never
 * returned, audited, per instance host where the vendor needs it, used by consent before the
 * install's OAUTH_* defaults, and invisible to other tenants.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listAudit } from "../audit/audit-repository";
import type { Db } from "../db/client";
import { createTestTenant, testDb } from "../../tests/helpers/db";
import { tenantConsentProviders } from "./consent-flow";
import { parseEncryptionKey } from "./crypto";
import { addOAuthApp, findOAuthApp, listOAuthApps, removeOAuthApp, updateOAuthApp } from "./oauth-app-repository";

const key = parseEncryptionKey(randomBytes(32).toString("hex"));
const admin = { id: null, label: "admin@apps.test" };
const SECRET = "zd-secret-never-shown-7f3a";
let db: Db;
let a: string;
let b: string;

beforeAll(() => {
  db = testDb();
});
afterAll(async () => {
  await db?.$disconnect();
});
beforeEach(async () => {
  a = await createTestTenant(db, "appsa");
  b = await createTestTenant(db, "appsb");
});

describe("OAuth apps per tenant", () => {
  it("keeps the secret encrypted, never returns it, audits the change, and hides the app from other tenants", async () => {
    const added = await addOAuthApp(db, key, a, admin, { provider: "zendesk", instanceHost: "acme.zendesk.com", clientId: "zd-client", clientSecret: SECRET });
    expect(added).toMatchObject({ ok: true, value: { provider: "zendesk", instanceHost: "acme.zendesk.com", clientId: "zd-client", hasSecret: true } });
    const listed = await listOAuthApps(db, a);
    expect(JSON.stringify(listed)).not.toContain(SECRET);
    const row = await db.oAuthApp.findFirstOrThrow({ where: { tenantId: a } });
    expect(Buffer.from(row.secretCiphertext).toString("utf8")).not.toContain(SECRET);
    const audit = await listAudit(db, a, { action: "oauth_app.added" });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(SECRET);
    // tenant B: nothing listed, found, changed or removed
    expect(await listOAuthApps(db, b)).toEqual([]);
    expect(await findOAuthApp(db, key, b, "zendesk", { instanceHost: "acme.zendesk.com" })).toEqual({ ok: true, value: null });
    const id = added.ok ? added.value.id : "";
    expect(await removeOAuthApp(db, b, admin, id)).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    expect(await updateOAuthApp(db, key, b, admin, id, { provider: "zendesk", instanceHost: "acme.zendesk.com", clientId: "stolen" })).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    expect(await findOAuthApp(db, key, a, "zendesk", { instanceHost: "acme.zendesk.com" })).toMatchObject({ ok: true, value: { clientId: "zd-client", secret: SECRET } });
    // a row copied into tenant B does not decrypt there (AAD binds tenant and id)
    await db.oAuthApp.create({ data: { ...row, id: undefined as unknown as string, tenantId: b } });
    expect((await findOAuthApp(db, key, b, "zendesk", { instanceHost: "acme.zendesk.com" })).ok).toBe(false);
  });

  it("checks per-instance vendors and URL overrides: instance host required, overrides only on the vendor's or instance's host, https", async () => {
    expect(await addOAuthApp(db, key, a, admin, { provider: "zendesk", clientId: "c", clientSecret: "s" })).toMatchObject({ ok: false, error: { code: "INVALID", message: expect.stringContaining("per instance") } });
    expect(await addOAuthApp(db, key, a, admin, { provider: "github", clientId: "c", clientSecret: "s", tokenUrl: "https://github.com/login/oauth/access_token" })).toMatchObject({ ok: false, error: { code: "INVALID" } });
    expect(await addOAuthApp(db, key, a, admin, { provider: "gitlab", instanceHost: "gitlab.acme.example", clientId: "c", clientSecret: "s", tokenUrl: "https://evil.example/oauth/token" })).toMatchObject({ ok: false, error: { code: "INVALID", message: expect.stringContaining("instance host") } });
    expect(await addOAuthApp(db, key, a, admin, { provider: "gitlab", instanceHost: "gitlab.acme.example", clientId: "c", clientSecret: "s", tokenUrl: "http://gitlab.acme.example/oauth/token" })).toMatchObject({ ok: false, error: { code: "INVALID", message: expect.stringContaining("https") } });
    expect(await addOAuthApp(db, key, a, admin, { provider: "gitlab", instanceHost: "gitlab.acme.example", clientId: "c", clientSecret: "s", authorizeUrl: "https://gitlab.acme.example/oauth/authorize", tokenUrl: "https://gitlab.acme.example/oauth/token" })).toMatchObject({ ok: true });
    expect(await addOAuthApp(db, key, a, admin, { provider: "myspace", clientId: "c", clientSecret: "s" })).toMatchObject({ ok: false, error: { code: "INVALID" } });
    expect(await addOAuthApp(db, undefined, a, admin, { provider: "github", clientId: "c", clientSecret: "s" })).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } });
  });

  it("is used by consent before OAUTH_<P>_* for its instance only; the install's client serves only its own instance", async () => {
    await addOAuthApp(db, key, a, admin, { provider: "zendesk", instanceHost: "acme.zendesk.com", clientId: "zd-tenant-client", clientSecret: SECRET });
    const env = { OAUTH_ZENDESK_CLIENT_ID: "zd-env-client", OAUTH_ZENDESK_CLIENT_SECRET: "env-secret", OAUTH_ZENDESK_INSTANCE: "other.zendesk.com" };
    const lookup = tenantConsentProviders(db, key, env);
    expect(await lookup("zendesk", { subdomain: "acme" }, a)).toMatchObject({ ok: true, value: { clientId: "zd-tenant-client", clientSecret: SECRET, tokenUrl: "https://acme.zendesk.com/oauth/tokens", tokenOrigin: "catalog" } });
    expect(await lookup("zendesk", { subdomain: "other" }, a)).toMatchObject({ ok: true, value: { clientId: "zd-env-client" } });
    expect(await lookup("zendesk", { subdomain: "other" }, b)).toMatchObject({ ok: true, value: { clientId: "zd-env-client" } });
    // tenant b has no app for acme, and the install's client is another instance's: nothing to send there
    expect(await lookup("zendesk", { subdomain: "acme" }, b)).toMatchObject({ ok: false, error: expect.stringContaining("belongs to other.zendesk.com") });
    // without an env default, a per-instance vendor says what to register
    const bare = await tenantConsentProviders(db, key, {})("zendesk", { subdomain: "other" }, a);
    expect(bare).toMatchObject({ ok: false, error: expect.stringContaining("Settings → OAuth apps") });
  });

  it("serves sp:<principal> apps separately from consent, and updates keep or replace the secret", async () => {
    const r = await addOAuthApp(db, key, a, admin, { provider: "okta", instanceHost: "acme.okta.com", principal: "directory-sync", clientId: "0oa1", clientSecret: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----", assertionKeyId: "kid-1" });
    expect(r.ok).toBe(true);
    expect(await findOAuthApp(db, key, a, "okta", { instanceHost: "acme.okta.com" })).toEqual({ ok: true, value: null });
    expect(await findOAuthApp(db, key, a, "okta", { instanceHost: "acme.okta.com", principal: "directory-sync" })).toMatchObject({ ok: true, value: { clientId: "0oa1", assertionKeyId: "kid-1" } });
    const id = r.ok ? r.value.id : "";
    await updateOAuthApp(db, key, a, admin, id, { provider: "okta", instanceHost: "acme.okta.com", principal: "directory-sync", clientId: "0oa2", assertionKeyId: "kid-1" });
    expect(await findOAuthApp(db, key, a, "okta", { instanceHost: "acme.okta.com", principal: "directory-sync" })).toMatchObject({ ok: true, value: { clientId: "0oa2", secret: expect.stringContaining("PRIVATE KEY") } });
    expect(await removeOAuthApp(db, a, admin, id)).toMatchObject({ ok: true });
    expect((await listAudit(db, a)).map((x) => x.action).filter((x) => x.startsWith("oauth_app."))).toEqual(["oauth_app.removed", "oauth_app.updated", "oauth_app.added"]);
  });
});
