/**
 * The consent_requests table: one row per browser admin-consent attempt. Only a hash of the
 * OAuth `state` and the encrypted PKCE verifier are stored; a row is used at most once (the
 * compare-and-set in `consumeConsentRequest`). The one module that touches this table.
 */
import type { Db } from "../db/client";

export type ConsentRequestRow = {
  id: string;
  tenantId: string;
  connectionId: string;
  userId: string;
  userLabel: string;
  provider: string;
  redirectUri: string;
  verifier: { ciphertext: Buffer; iv: Buffer; tag: Buffer; keyId: string };
  expiresAt: Date;
  usedAt: Date | null;
  /** the connections listed on the consent screen the admin approved (always includes connectionId) */
  connectionIds: string[];
  /** digest of the authorization server, token endpoint and client it was started for ("" for a request from before it was kept) */
  providerFingerprint: string;
};

export type NewConsentRequest = Omit<ConsentRequestRow, "id" | "usedAt"> & { stateHash: string };

const SELECT = {
  id: true, tenantId: true, connectionId: true, userId: true, userLabel: true, provider: true, redirectUri: true,
  verifierCiphertext: true, verifierIv: true, verifierTag: true, keyId: true, expiresAt: true, usedAt: true, connectionIds: true, providerFingerprint: true,
} as const;

type Raw = { id: string; tenantId: string; connectionId: string; userId: string; userLabel: string; provider: string; redirectUri: string; verifierCiphertext: Uint8Array; verifierIv: Uint8Array; verifierTag: Uint8Array; keyId: string; expiresAt: Date; usedAt: Date | null; connectionIds: string[] | null; providerFingerprint: string };

function fromRow(r: Raw): ConsentRequestRow {
  return {
    id: r.id,
    tenantId: r.tenantId,
    connectionId: r.connectionId,
    userId: r.userId,
    userLabel: r.userLabel,
    provider: r.provider,
    redirectUri: r.redirectUri,
    verifier: { ciphertext: Buffer.from(r.verifierCiphertext), iv: Buffer.from(r.verifierIv), tag: Buffer.from(r.verifierTag), keyId: r.keyId },
    expiresAt: r.expiresAt,
    usedAt: r.usedAt,
    connectionIds: r.connectionIds ?? [],
    providerFingerprint: r.providerFingerprint,
  };
}

export async function createConsentRequest(db: Db, r: NewConsentRequest): Promise<string> {
  const row = await db.consentRequest.create({
    data: {
      tenantId: r.tenantId,
      connectionId: r.connectionId,
      userId: r.userId,
      userLabel: r.userLabel,
      provider: r.provider,
      stateHash: r.stateHash,
      redirectUri: r.redirectUri,
      verifierCiphertext: new Uint8Array(r.verifier.ciphertext),
      verifierIv: new Uint8Array(r.verifier.iv),
      verifierTag: new Uint8Array(r.verifier.tag),
      keyId: r.verifier.keyId,
      expiresAt: r.expiresAt,
      connectionIds: [...new Set([r.connectionId, ...r.connectionIds])],
      providerFingerprint: r.providerFingerprint,
    },
    select: { id: true },
  });
  return row.id;
}

export async function findConsentRequestByStateHash(db: Db, stateHash: string): Promise<ConsentRequestRow | null> {
  const row = await db.consentRequest.findUnique({ where: { stateHash }, select: SELECT });
  return row ? fromRow(row) : null;
}

/** Marks the request used; false when it already was (a replay, or two tabs racing). */
export async function consumeConsentRequest(db: Db, id: string, now: Date): Promise<boolean> {
  const { count } = await db.consentRequest.updateMany({ where: { id, usedAt: null }, data: { usedAt: now } });
  return count === 1;
}

/** Housekeeping: requests that expired more than a day ago serve no purpose. */
export async function deleteStaleConsentRequests(db: Db, olderThan: Date): Promise<number> {
  const { count } = await db.consentRequest.deleteMany({ where: { expiresAt: { lt: olderThan } } });
  return count;
}
