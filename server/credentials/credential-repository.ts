/**
 * The credentials table: encrypted records only. The one module under server/credentials that
 * touches Prisma (STYLE.md rule 3); it never sees plaintext.
 */
import type { Db } from "../db/client";

export type CredentialRecord = {
  tenantId: string;
  locator: string;
  kind: string;
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  keyId: string;
  expiresAt: Date | null;
};

export async function upsertCredentialRecord(db: Db, r: CredentialRecord): Promise<void> {
  const data = {
    kind: r.kind,
    ciphertext: new Uint8Array(r.ciphertext),
    iv: new Uint8Array(r.iv),
    tag: new Uint8Array(r.tag),
    keyId: r.keyId,
    expiresAt: r.expiresAt,
  };
  await db.credential.upsert({
    where: { tenantId_locator: { tenantId: r.tenantId, locator: r.locator } },
    create: { tenantId: r.tenantId, locator: r.locator, ...data },
    update: data,
    select: { id: true },
  });
}

export async function getCredentialRecord(db: Db, tenantId: string, locator: string): Promise<CredentialRecord | null> {
  const row = await db.credential.findUnique({
    where: { tenantId_locator: { tenantId, locator } },
    select: { kind: true, ciphertext: true, iv: true, tag: true, keyId: true, expiresAt: true },
  });
  if (!row) return null;
  return {
    tenantId,
    locator,
    kind: row.kind,
    ciphertext: Buffer.from(row.ciphertext),
    iv: Buffer.from(row.iv),
    tag: Buffer.from(row.tag),
    keyId: row.keyId,
    expiresAt: row.expiresAt,
  };
}

export async function deleteCredentialRecord(db: Db, tenantId: string, locator: string): Promise<void> {
  await db.credential.deleteMany({ where: { tenantId, locator } });
}
