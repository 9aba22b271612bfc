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
 * The bindings of one locator in a tenant, or — when none exists yet among those `sameTypeOnly`
 * considers — this use becomes the first one. Serialised per (tenant, locator) by an advisory lock,
 * so two first uses at once bind one destination, and the other is then compared with it.
 */
export async function bindOnFirstUse(db: Db, k: BindingKey, opts: { connectionId: string; sameTypeOnly: boolean }): Promise<{ bindings: SecretBindingRow[]; created: boolean }> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`credential_binding:${k.tenantId}:${k.locator}`}, 0))`;
    const rows = await tx.credentialBinding.findMany({
      where: { tenantId: k.tenantId, locator: k.locator, ...(opts.sameTypeOnly ? { sourceType: k.sourceType } : {}) },
      select: SELECT,
      orderBy: { createdAt: "asc" },
      take: 200,
    });
    if (rows.length > 0) return { bindings: rows.map(asRow), created: false };
    const row = await tx.credentialBinding.create({
      data: { tenantId: k.tenantId, locator: k.locator, sourceType: k.sourceType, destination: k.destination, origin: "first_use", connectionId: opts.connectionId, createdBy: "first use" },
      select: SELECT,
    });
    // in the open: the admins see where the secret was bound, and by which connection
    await recordAudit(tx, k.tenantId, { label: "onboarding (first use)" }, "secret_binding.bound", k.locator, { sourceType: k.sourceType, destination: k.destination, connectionId: opts.connectionId });
    return { bindings: [asRow(row)], created: true };
  });
}

/** An admin allows the secret at one more destination (idempotent: the existing row when it is already allowed). */
export async function addBinding(db: Db, k: BindingKey, actor: { id?: string | null; label: string }): Promise<{ row: SecretBindingRow; created: boolean }> {
  const where = { tenantId_locator_sourceType_destination: { tenantId: k.tenantId, locator: k.locator, sourceType: k.sourceType, destination: k.destination } };
  const existing = await db.credentialBinding.findUnique({ where, select: SELECT });
  if (existing) return { row: asRow(existing), created: false };
  const row = await db.credentialBinding.upsert({
    where,
    create: { tenantId: k.tenantId, locator: k.locator, sourceType: k.sourceType, destination: k.destination, origin: "admin", createdById: actor.id ?? null, createdBy: actor.label },
    update: {},
    select: SELECT,
  });
  return { row: asRow(row), created: true };
}

/** Every binding of one locator in a tenant (what an attempt's check compares with; one statement). */
export async function bindingsOf(db: Db, tenantId: string, locator: string): Promise<SecretBindingRow[]> {
  const rows = await db.credentialBinding.findMany({ where: { tenantId, locator }, select: SELECT, orderBy: { createdAt: "asc" }, take: BINDINGS_LISTED });
  return rows.map(asRow);
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
