/**
 * Key rotation: re-encrypts every stored secret (credentials, consent requests' PKCE verifiers,
 * the OAuth apps' client secrets and private keys) that is not under the current ENCRYPTION_KEY,
 * using the previous key it names (ENCRYPTION_KEY_PREVIOUS). Each row is rewritten only if it is
 * unchanged since it was read (its key id and IV), so a concurrent write of a fresh token or a
 * new client secret is never overwritten. The repository for this one job: it touches Prisma,
 * never logs plaintext.
 */
import type { Db } from "../db/client";
import { aadFor, decrypt, encrypt, type EncryptionKey, type Sealed } from "./crypto";

type Count = { reencrypted: number; unreadable: number };
export type RekeyReport = { credentials: Count; consentRequests: Count; oauthApps: Count };

const BATCH = 200;
const FIRST_ID = "00000000-0000-0000-0000-000000000000";

/** One table's sealed rows: read a page after an id, and write a row back if it is unchanged. */
type SealedTable<R extends { id: string; tenantId: string }> = {
  page(after: string): Promise<R[]>;
  /** the sealed value and the AAD it is bound to */
  sealed(r: R): { value: Sealed; aad: Buffer };
  /** writes the new seal where the row still holds the old one; the rows written (0 or 1) */
  replace(r: R, s: Sealed): Promise<number>;
};

async function rekeyTable<R extends { id: string; tenantId: string }>(key: EncryptionKey, t: SealedTable<R>): Promise<Count> {
  const count: Count = { reencrypted: 0, unreadable: 0 };
  for (let after = FIRST_ID; ; ) {
    const rows = await t.page(after);
    if (!rows.length) return count;
    after = rows[rows.length - 1]!.id;
    for (const r of rows) {
      const { value, aad } = t.sealed(r);
      const plain = decrypt(key, value, aad);
      if (!plain.ok) {
        count.unreadable++;
        continue;
      }
      count.reencrypted += await t.replace(r, encrypt(key, plain.value, aad));
    }
  }
}

const bytes = (b: Uint8Array) => Buffer.from(b);
const stored = (b: Buffer) => new Uint8Array(b);

export async function reencryptStoredSecrets(db: Db, key: EncryptionKey): Promise<RekeyReport> {
  const credentials = await rekeyTable(key, {
    page: (after) =>
      db.credential.findMany({
        where: { keyId: { not: key.id }, id: { gt: after } },
        orderBy: { id: "asc" },
        take: BATCH,
        select: { id: true, tenantId: true, locator: true, ciphertext: true, iv: true, tag: true, keyId: true },
      }),
    sealed: (r) => ({ value: { ciphertext: bytes(r.ciphertext), iv: bytes(r.iv), tag: bytes(r.tag), keyId: r.keyId }, aad: aadFor(r.tenantId, r.locator) }),
    replace: async (r, s) =>
      (await db.credential.updateMany({ where: { id: r.id, keyId: r.keyId, iv: r.iv }, data: { ciphertext: stored(s.ciphertext), iv: stored(s.iv), tag: stored(s.tag), keyId: s.keyId } })).count,
  });
  const consentRequests = await rekeyTable(key, {
    page: (after) =>
      db.consentRequest.findMany({
        // used or expired requests can never be completed: nothing to keep readable
        where: { keyId: { not: key.id }, usedAt: null, expiresAt: { gt: new Date() }, id: { gt: after } },
        orderBy: { id: "asc" },
        take: BATCH,
        select: { id: true, tenantId: true, stateHash: true, verifierCiphertext: true, verifierIv: true, verifierTag: true, keyId: true },
      }),
    // the AAD consent-flow.ts binds a verifier to (tenant, state)
    sealed: (r) => ({ value: { ciphertext: bytes(r.verifierCiphertext), iv: bytes(r.verifierIv), tag: bytes(r.verifierTag), keyId: r.keyId }, aad: aadFor(r.tenantId, `consent_request:${r.stateHash}`) }),
    replace: async (r, s) =>
      (await db.consentRequest.updateMany({ where: { id: r.id, keyId: r.keyId, usedAt: null }, data: { verifierCiphertext: stored(s.ciphertext), verifierIv: stored(s.iv), verifierTag: stored(s.tag), keyId: s.keyId } })).count,
  });
  const oauthApps = await rekeyTable(key, {
    page: (after) =>
      db.oAuthApp.findMany({
        where: { keyId: { not: key.id }, id: { gt: after } },
        orderBy: { id: "asc" },
        take: BATCH,
        select: { id: true, tenantId: true, secretCiphertext: true, secretIv: true, secretTag: true, keyId: true },
      }),
    // the AAD oauth-app-repository.ts binds a client secret to (tenant, app)
    sealed: (r) => ({ value: { ciphertext: bytes(r.secretCiphertext), iv: bytes(r.secretIv), tag: bytes(r.secretTag), keyId: r.keyId }, aad: aadFor(r.tenantId, `oauth_app:${r.id}`) }),
    // unchanged since it was read: an admin's new secret written meanwhile is never overwritten
    replace: async (r, s) =>
      (await db.oAuthApp.updateMany({ where: { id: r.id, keyId: r.keyId, secretIv: r.secretIv }, data: { secretCiphertext: stored(s.ciphertext), secretIv: stored(s.iv), secretTag: stored(s.tag), keyId: s.keyId } })).count,
  });
  return { credentials, consentRequests, oauthApps };
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
