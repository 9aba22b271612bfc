/** The credential_bindings table: where a tenant's own secret may be sent (secret-binding.ts). The one module that touches it. */
import { recordAudit } from "../audit/audit-repository";
import type { Db } from "../db/client";

export type SecretBindingRow = {
  id: string;
  locator: string;
  sourceType: string;
  destination: string;
  origin: "first_use" | "admin";
  connectionId: string | null;
  createdBy: string;
  createdAt: Date;
};

const SELECT = { id: true, locator: true, sourceType: true, destination: true, origin: true, connectionId: true, createdBy: true, createdAt: true } as const;
const asRow = (r: Omit<SecretBindingRow, "origin"> & { origin: string }): SecretBindingRow => ({ ...r, origin: r.origin === "admin" ? "admin" : "first_use" });

export type BindingKey = { tenantId: string; locator: string; sourceType: string; destination: string };

/**
 * Binds this use when the locator is bound nowhere yet (among what `sameTypeOnly` considers);
 * says whether this use is bound now. Serialised per (tenant, locator) by an advisory lock,
 * so two first uses at once bind one destination, and the other is then compared with it.
 */
export async function bindOnFirstUse(db: Db, k: BindingKey, opts: { connectionId: string; sameTypeOnly: boolean }): Promise<{ bound: boolean }> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`credential_binding:${k.tenantId}:${k.locator}`}, 0))`;
    const other = await tx.credentialBinding.findFirst({ where: { tenantId: k.tenantId, locator: k.locator, ...(opts.sameTypeOnly ? { sourceType: k.sourceType } : {}) }, select: { sourceType: true, destination: true } });
    // bound meanwhile (a race of first uses): this use counts only where the winner bound it
    if (other) return { bound: (await tx.credentialBinding.count({ where: { tenantId: k.tenantId, locator: k.locator, sourceType: k.sourceType, destination: k.destination } })) > 0 };
    await tx.credentialBinding.create({
      data: { tenantId: k.tenantId, locator: k.locator, sourceType: k.sourceType, destination: k.destination, origin: "first_use", connectionId: opts.connectionId, createdBy: "first use" },
      select: { id: true },
    });
    // in the open: the admins see where the secret was bound, and by which connection
    await recordAudit(tx, k.tenantId, { label: "onboarding (first use)" }, "secret_binding.bound", k.locator, { sourceType: k.sourceType, destination: k.destination, connectionId: opts.connectionId });
    return { bound: true };
  });
}

/** An admin allows the secret at one more destination (idempotent: the existing row when it is already allowed). */
export async function addBinding(db: Db, k: BindingKey, actor: { id?: string | null; label: string }): Promise<SecretBindingRow> {
  const row = await db.credentialBinding.upsert({
    where: { tenantId_locator_sourceType_destination: { tenantId: k.tenantId, locator: k.locator, sourceType: k.sourceType, destination: k.destination } },
    create: { tenantId: k.tenantId, locator: k.locator, sourceType: k.sourceType, destination: k.destination, origin: "admin", createdById: actor.id ?? null, createdBy: actor.label },
    update: {},
    select: SELECT,
  });
  return asRow(row);
}

/** Bindings a refused connection's page names, at most (it says how many more). */
export const BINDINGS_SHOWN = 20;

/**
 * What one use of a locator is compared with: whether its (source type, destination) is bound —
 * by the unique key, never by searching a bounded list — how many bindings it is compared with
 * (all of the locator's, or its source type's for `sameTypeOnly`), and the oldest of them.
 */
export async function lookupBinding(db: Db, k: BindingKey, sameTypeOnly: boolean): Promise<{ matched: boolean; total: number; oldest: SecretBindingRow[] }> {
  const where = { tenantId: k.tenantId, locator: k.locator, ...(sameTypeOnly ? { sourceType: k.sourceType } : {}) };
  const [hit, total, oldest] = await Promise.all([
    db.credentialBinding.findUnique({ where: { tenantId_locator_sourceType_destination: { tenantId: k.tenantId, locator: k.locator, sourceType: k.sourceType, destination: k.destination } }, select: { id: true } }),
    db.credentialBinding.count({ where }),
    db.credentialBinding.findMany({ where, select: SELECT, orderBy: { createdAt: "asc" }, take: BINDINGS_SHOWN }),
  ]);
  return { matched: hit !== null, total, oldest: oldest.map(asRow) };
}

/** Bindings listed on the Settings page, at most this many (the total is counted). */
export const BINDINGS_LISTED = 500;

/** A tenant's bindings, ordered by locator then age, and how many there are. */
export async function listBindings(db: Db, tenantId: string): Promise<{ rows: SecretBindingRow[]; total: number }> {
  const where = { tenantId };
  const [rows, total] = await Promise.all([
    db.credentialBinding.findMany({ where, select: SELECT, orderBy: [{ locator: "asc" }, { createdAt: "asc" }], take: BINDINGS_LISTED }),
    db.credentialBinding.count({ where }),
  ]);
  return { rows: rows.map(asRow), total };
}

export async function removeBinding(db: Db, tenantId: string, id: string): Promise<SecretBindingRow | null> {
  const row = await db.credentialBinding.findFirst({ where: { id, tenantId }, select: SELECT });
  if (!row) return null;
  await db.credentialBinding.deleteMany({ where: { id, tenantId } });
  return asRow(row);
}
