/**
 * Reading the audit log for the Audit page: filtered by person, action and time, newest first,
 * one page at a time (keyset on the row id). Read-only: nothing here writes the log.
 */
import type { Db } from "../db/client";

export type AuditFilter = { actor?: string; action?: string; from?: Date; to?: Date; beforeId?: string; limit: number };
export type AuditRow = { id: string; actorLabel: string; action: string; target: string; details: Record<string, unknown>; at: Date };

export async function searchAudit(db: Db, tenantId: string, f: AuditFilter): Promise<AuditRow[]> {
  const rows = await db.auditEvent.findMany({
    where: {
      tenantId,
      ...(f.actor ? { actorLabel: f.actor } : {}),
      ...(f.action ? (f.action.endsWith(".") ? { action: { startsWith: f.action } } : { action: f.action }) : {}),
      ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {}),
      ...(f.beforeId ? { id: { lt: BigInt(f.beforeId) } } : {}),
    },
    orderBy: { id: "desc" },
    take: f.limit,
    select: { id: true, actorLabel: true, action: true, target: true, details: true, at: true },
  });
  return rows.map((r) => ({ ...r, id: r.id.toString(), details: (r.details ?? {}) as Record<string, unknown> }));
}

/** The people and actions that appear in a tenant's log: the filters' choices. */
export async function auditFacets(db: Db, tenantId: string): Promise<{ actors: string[]; actions: string[] }> {
  const [actors, actions] = await Promise.all([
    db.auditEvent.findMany({ where: { tenantId }, distinct: ["actorLabel"], select: { actorLabel: true }, orderBy: { actorLabel: "asc" }, take: 500 }),
    db.auditEvent.findMany({ where: { tenantId }, distinct: ["action"], select: { action: true }, orderBy: { action: "asc" }, take: 200 }),
  ]);
  return { actors: actors.map((a) => a.actorLabel), actions: actions.map((a) => a.action) };
}
