/**
 * Key rotation against the real PostgreSQL: with the old key in ENCRYPTION_KEY_PREVIOUS the app
 * still reads what was stored, and `npm run rekey` re-encrypts credentials, pending consent
 * verifiers and the OAuth apps' client secrets under the new key, after which the old key is no
 * longer needed (the OAuth apps were left under the old key before: found in the audit).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aadFor, decrypt, encrypt, parseEncryptionKey, withPrevious } from "../../server/credentials/crypto";
import { loadCredential, storeCredential } from "../../server/credentials/credential-store";
import { addOAuthApp } from "../../server/credentials/oauth-app-repository";
import { countStaleSecrets, reencryptStoredSecrets } from "../../server/credentials/rekey";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { seedDatabase } from "../../server/db/seed";
import { childEnv } from "../../server/env";
import { createScratchDatabase } from "../helpers/db";

const root = path.resolve(import.meta.dirname, "../..");
const hex = () => randomBytes(32).toString("hex");

describe("key rotation", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;
  let tenantId: string;
  const oldRaw = hex();
  const newRaw = hex();
  const oldKey = parseEncryptionKey(oldRaw);
  const rotated = withPrevious(parseEncryptionKey(newRaw), [oldKey]);
  const stateHash = "s".repeat(43);
  let appId = "";

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await applyMigrations(scratch.url);
    db = createDb(scratch.url, 3);
    tenantId = (await seedDatabase(db, { adminEmail: "a@rekey.test", execEmail: "e@rekey.test", sloTarget: 0.9 })).tenantId;
    // stored under the old key: two credentials and one pending consent request
    await storeCredential(db, oldKey, { tenantId, locator: "consent:github", kind: "consent", bundle: { access_token: "gho_old_1" }, expiresAt: null });
    await storeCredential(db, oldKey, { tenantId, locator: "sp:crm", kind: "sp_token", bundle: { access_token: "sp_old_2" }, expiresAt: null });
    const conn = await db.connection.create({
      data: { tenantId, namespace: "autonomy", sourceType: "github", resourceIds: ["acme"], resourceKey: "k", scopesMode: "safe_readonly", credentialLocator: "consent:github", riskLevel: "low", evidence: {}, owner: {} },
      select: { id: true },
    });
    const admin = await db.user.findFirstOrThrow({ where: { tenantId, role: "admin" }, select: { id: true } });
    const v = encrypt(oldKey, "pkce-verifier-value", aadFor(tenantId, `consent_request:${stateHash}`));
    await db.consentRequest.create({
      data: { tenantId, connectionId: conn.id, userId: admin.id, userLabel: "a@rekey.test", provider: "github", stateHash, redirectUri: "http://127.0.0.1/api/oauth/callback", verifierCiphertext: new Uint8Array(v.ciphertext), verifierIv: new Uint8Array(v.iv), verifierTag: new Uint8Array(v.tag), keyId: v.keyId, expiresAt: new Date(Date.now() + 600_000) },
    });
    // an OAuth app's client secret, sealed as oauth-app-repository.ts does
    const app = await addOAuthApp(db, oldKey, tenantId, { label: "a@rekey.test" }, { provider: "slack", clientId: "slack-client", clientSecret: "slack-client-secret-old" });
    if (!app.ok) throw new Error(app.error.message);
    appId = app.value.id;
  });
  afterAll(async () => {
    await db?.$disconnect();
    await scratch?.drop();
  });

  it("reads old records while the old key is listed as previous, and not without it", async () => {
    const now = new Date();
    expect(await loadCredential(db, rotated, tenantId, "consent:github", now)).toMatchObject({ ok: true, value: { bundle: { access_token: "gho_old_1" } } });
    const bare = parseEncryptionKey(newRaw);
    const r = await loadCredential(db, bare, tenantId, "consent:github", now);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.error).toMatch(/list the old key in ENCRYPTION_KEY_PREVIOUS/);
  });

  it("`npm run rekey` without the old key listed exits 1 and says what to do", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/rekey.ts"], { cwd: root, env: childEnv({ DATABASE_URL: scratch.url, ENCRYPTION_KEY: newRaw, ENCRYPTION_KEY_PREVIOUS: undefined, NODE_OPTIONS: undefined }), encoding: "utf8", timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("4 record(s) are under a key that is neither ENCRYPTION_KEY nor listed in ENCRYPTION_KEY_PREVIOUS");
  });

  it("`npm run rekey` re-encrypts everything under the new key; the old key is then not needed", async () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/rekey.ts"], { cwd: root, env: childEnv({ DATABASE_URL: scratch.url, ENCRYPTION_KEY: newRaw, ENCRYPTION_KEY_PREVIOUS: oldRaw, NODE_OPTIONS: undefined }), encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("re-encrypted 2 credential(s), 1 pending consent request(s) and 1 OAuth app secret(s)");
    const bare = parseEncryptionKey(newRaw);
    expect(await countStaleSecrets(db, bare)).toBe(0);
    expect(await loadCredential(db, bare, tenantId, "sp:crm", new Date())).toMatchObject({ ok: true, value: { bundle: { access_token: "sp_old_2" } } });
    const req = await db.consentRequest.findUniqueOrThrow({ where: { stateHash } });
    expect(decrypt(bare, { ciphertext: Buffer.from(req.verifierCiphertext), iv: Buffer.from(req.verifierIv), tag: Buffer.from(req.verifierTag), keyId: req.keyId }, aadFor(tenantId, `consent_request:${stateHash}`))).toEqual({ ok: true, value: "pkce-verifier-value" });
    const row = await db.oAuthApp.findUniqueOrThrow({ where: { id: appId } });
    expect(row.keyId).toBe(bare.id);
    expect(decrypt(bare, { ciphertext: Buffer.from(row.secretCiphertext), iv: Buffer.from(row.secretIv), tag: Buffer.from(row.secretTag), keyId: row.keyId }, aadFor(tenantId, `oauth_app:${appId}`))).toEqual({ ok: true, value: "slack-client-secret-old" });
    // nothing left to do the second time
    expect(await reencryptStoredSecrets(db, rotated)).toEqual({ credentials: { reencrypted: 0, unreadable: 0 }, consentRequests: { reencrypted: 0, unreadable: 0 }, oauthApps: { reencrypted: 0, unreadable: 0 } });
  });
});
