/**
 * Key rotation: re-encrypts every stored secret (credentials, consent requests' PKCE verifiers,
 * the OAuth apps' client secrets and private keys) that is not under the current ENCRYPTION_KEY, using the previous key it names
 * (ENCRYPTION_KEY_PREVIOUS). Each row is rewritten only if it is unchanged since it was read
 * (its key id), so a concurrent write of a fresh token is never overwritten. The repository for
 * this one job: it touches Prisma, never logs plaintext.
 */
import type { Db } from "../db/client";
import { aadFor, decrypt, encrypt, type EncryptionKey } from "./crypto";

type Count = { reencrypted: number; unreadable: number };
export type RekeyReport = { credentials: Count; consentRequests: Count; oauthApps: Count };

const BATCH = 200;

export async function reencryptStoredSecrets(db: Db, key: EncryptionKey): Promise<RekeyReport> {
  const report: RekeyReport = { credentials: { reencrypted: 0, unreadable: 0 }, consentRequests: { reencrypted: 0, unreadable: 0 }, oauthApps: { reencrypted: 0, unreadable: 0 } };
  let after = "";
  for (;;) {
    const rows = await db.credential.findMany({
      where: { keyId: { not: key.id }, id: { gt: after || "00000000-0000-0000-0000-000000000000" } },
      orderBy: { id: "asc" },
      take: BATCH,
      select: { id: true, tenantId: true, locator: true, ciphertext: true, iv: true, tag: true, keyId: true },
    });
    if (!rows.length) break;
    after = rows[rows.length - 1]!.id;
    for (const r of rows) {
      const aad = aadFor(r.tenantId, r.locator);
      const plain = decrypt(key, { ciphertext: Buffer.from(r.ciphertext), iv: Buffer.from(r.iv), tag: Buffer.from(r.tag), keyId: r.keyId }, aad);
      if (!plain.ok) {
        report.credentials.unreadable++;
        continue;
      }
      const s = encrypt(key, plain.value, aad);
      const u = await db.credential.updateMany({
        where: { id: r.id, keyId: r.keyId, iv: r.iv },
        data: { ciphertext: new Uint8Array(s.ciphertext), iv: new Uint8Array(s.iv), tag: new Uint8Array(s.tag), keyId: s.keyId },
      });
      report.credentials.reencrypted += u.count;
    }
  }
  after = "";
  for (;;) {
    const rows = await db.consentRequest.findMany({
      // used or expired requests can never be completed: nothing to keep readable
      where: { keyId: { not: key.id }, usedAt: null, expiresAt: { gt: new Date() }, id: { gt: after || "00000000-0000-0000-0000-000000000000" } },
      orderBy: { id: "asc" },
      take: BATCH,
      select: { id: true, tenantId: true, stateHash: true, verifierCiphertext: true, verifierIv: true, verifierTag: true, keyId: true },
    });
    if (!rows.length) break;
    after = rows[rows.length - 1]!.id;
    for (const r of rows) {
      // the AAD consent-flow.ts binds a verifier to (tenant, state)
      const aad = aadFor(r.tenantId, `consent_request:${r.stateHash}`);
      const plain = decrypt(key, { ciphertext: Buffer.from(r.verifierCiphertext), iv: Buffer.from(r.verifierIv), tag: Buffer.from(r.verifierTag), keyId: r.keyId }, aad);
      if (!plain.ok) {
        report.consentRequests.unreadable++;
        continue;
      }
      const s = encrypt(key, plain.value, aad);
      const u = await db.consentRequest.updateMany({
        where: { id: r.id, keyId: r.keyId, usedAt: null },
        data: { verifierCiphertext: new Uint8Array(s.ciphertext), verifierIv: new Uint8Array(s.iv), verifierTag: new Uint8Array(s.tag), keyId: s.keyId },
      });
      report.consentRequests.reencrypted += u.count;
    }
  }
  after = "";
  for (;;) {
    const rows = await db.oAuthApp.findMany({
      where: { keyId: { not: key.id }, id: { gt: after || "00000000-0000-0000-0000-000000000000" } },
      orderBy: { id: "asc" },
      take: BATCH,
      select: { id: true, tenantId: true, secretCiphertext: true, secretIv: true, secretTag: true, keyId: true },
    });
    if (!rows.length) break;
    after = rows[rows.length - 1]!.id;
    for (const r of rows) {
      // the AAD oauth-app-repository.ts binds a client secret to (tenant, app)
      const aad = aadFor(r.tenantId, `oauth_app:${r.id}`);
      const plain = decrypt(key, { ciphertext: Buffer.from(r.secretCiphertext), iv: Buffer.from(r.secretIv), tag: Buffer.from(r.secretTag), keyId: r.keyId }, aad);
      if (!plain.ok) {
        report.oauthApps.unreadable++;
        continue;
      }
      const s = encrypt(key, plain.value, aad);
      // unchanged since it was read: an admin's new secret written meanwhile is never overwritten
      const u = await db.oAuthApp.updateMany({
        where: { id: r.id, keyId: r.keyId, secretIv: r.secretIv },
        data: { secretCiphertext: new Uint8Array(s.ciphertext), secretIv: new Uint8Array(s.iv), secretTag: new Uint8Array(s.tag), keyId: s.keyId },
      });
      report.oauthApps.reencrypted += u.count;
    }
  }
  return report;
}

/** Rows still under another key (what `npm run rekey` has left to do, or cannot read). */
export async function countStaleSecrets(db: Db, key: EncryptionKey): Promise<number> {
  const [c, r, a] = await Promise.all([
    db.credential.count({ where: { keyId: { not: key.id } } }),
    db.consentRequest.count({ where: { keyId: { not: key.id }, usedAt: null, expiresAt: { gt: new Date() } } }),
    db.oAuthApp.count({ where: { keyId: { not: key.id } } }),
  ]);
  return c + r + a;
}
