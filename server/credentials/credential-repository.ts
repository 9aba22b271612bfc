/**
 * The credentials table: encrypted records only. The one module under server/credentials that
 * touches Prisma (STYLE.md rule 3); it never sees plaintext.
 */
import type { Db } from "../db/client";

/** The client or, inside withLockedCredential, its transaction: both reach the credentials table. */
export type CredentialDb = Pick<Db, "credential">;

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

export async function upsertCredentialRecord(db: CredentialDb, r: CredentialRecord): Promise<void> {
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

export async function getCredentialRecord(db: CredentialDb, tenantId: string, locator: string): Promise<CredentialRecord | null> {
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

/**
 * Runs fn in a transaction that holds the row lock (SELECT … FOR UPDATE) of one credential,
 * i.e. of one (tenant, locator) grant, across every process sharing the database: a second
 * caller waits until the first has committed and then reads what it wrote. Writers of the row
 * outside this function (a new consent, a re-key) wait for the lock too. When there is no row,
 * nothing is locked and fn sees none.
 * lockWaitMs bounds the wait for the lock; workMs bounds what fn does while holding it.
 */
export async function withLockedCredential<T>(
  db: Db,
  tenantId: string,
  locator: string,
  opts: { lockWaitMs: number; workMs: number },
  fn: (tx: CredentialDb) => Promise<T>,
): Promise<T> {
  return db.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = ${Math.max(1, Math.ceil(opts.lockWaitMs))}`);
      await tx.$queryRaw`SELECT 1 FROM credentials WHERE tenant_id = ${tenantId}::uuid AND locator = ${locator} FOR UPDATE`;
      return fn(tx);
    },
    { maxWait: opts.lockWaitMs, timeout: opts.lockWaitMs + opts.workMs },
  );
}
