/**
 * Reading the audit log for the Audit page: filtered by person, action and time, newest first,
 * one page at a time (keyset on the row id). Read-only: nothing here writes the log.
 */
import { Prisma, type Db } from "../db/client";

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

/** How many people and actions the filters offer at most (a longer list says so: `actorsComplete`). */
export const MAX_FACET_ACTORS = 1_000;
export const MAX_FACET_ACTIONS = 200;

/**
 * The distinct values of one column of a tenant's log, in order, at most `limit`: a skip scan
 * (each value found by one probe of the (tenant_id, column, id) index for the next larger one),
 * so it costs one probe per value however long the log is. `column` is one of two literals.
 */
async function distinctOf(db: Db, tenantId: string, column: "actor_label" | "action", limit: number): Promise<string[]> {
  const col = Prisma.raw(column);
  const rows = await db.$queryRaw<{ v: string }[]>`
    WITH RECURSIVE d(v) AS (
      (SELECT ${col} FROM audit_events WHERE tenant_id = ${tenantId}::uuid ORDER BY ${col} LIMIT 1)
      UNION ALL
      SELECT (SELECT ${col} FROM audit_events WHERE tenant_id = ${tenantId}::uuid AND ${col} > d.v ORDER BY ${col} LIMIT 1) FROM d WHERE d.v IS NOT NULL
    )
    SELECT v FROM d WHERE v IS NOT NULL LIMIT ${limit}`;
  return rows.map((r) => r.v);
}

/** The people and actions that appear in a tenant's log: the filters' choices (`actorsComplete` false when there are more people than MAX_FACET_ACTORS). */
export async function auditFacets(db: Db, tenantId: string): Promise<{ actors: string[]; actorsComplete: boolean; actions: string[] }> {
  const [actors, actions] = await Promise.all([distinctOf(db, tenantId, "actor_label", MAX_FACET_ACTORS + 1), distinctOf(db, tenantId, "action", MAX_FACET_ACTIONS)]);
  return { actors: actors.slice(0, MAX_FACET_ACTORS), actorsComplete: actors.length <= MAX_FACET_ACTORS, actions };
}
