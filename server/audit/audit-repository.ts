/**
 * The audit log: who did what and when, per tenant. Append-only (a database trigger refuses
 * updates). Callers pass plain, non-secret details; `recordAudit` still drops any key that looks
 * like it could hold a secret, as a second line of defence.
 */
import type { Db } from "../db/client";

export type AuditActor = { id?: string | null; label: string };
export type AuditEntry = { id: string; actorLabel: string; action: string; target: string; details: Record<string, unknown>; at: Date };

const SECRET_KEY = /(pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|ciphertext|verifier)/i;

function scrub(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([k]) => !SECRET_KEY.test(k)));
}

export async function recordAudit(db: Pick<Db, "auditEvent">, tenantId: string, actor: AuditActor, action: string, target = "", details: Record<string, unknown> = {}): Promise<void> {
  await db.auditEvent.create({ data: { tenantId, actorId: actor.id ?? null, actorLabel: actor.label, action, target, details: scrub(details) as object } });
}

export async function listAudit(db: Db, tenantId: string, opts: { action?: string; actionPrefixes?: readonly string[]; actor?: string; limit?: number; before?: Date } = {}): Promise<AuditEntry[]> {
  const rows = await db.auditEvent.findMany({
    where: {
      tenantId,
      ...(opts.action ? { action: opts.action } : {}),
      // only these kinds of entry (e.g. "settings."), filtered by the database: the newest N of the log may hold none of them
      ...(opts.actionPrefixes ? { OR: opts.actionPrefixes.map((p) => ({ action: { startsWith: p } })) } : {}),
      ...(opts.actor ? { actorLabel: { contains: opts.actor, mode: "insensitive" as const } } : {}),
      ...(opts.before ? { at: { lt: opts.before } } : {}),
    },
    orderBy: { at: "desc" },
    take: Math.min(opts.limit ?? 100, 500),
    select: { id: true, actorLabel: true, action: true, target: true, details: true, at: true },
  });
  return rows.map((r) => ({ ...r, id: r.id.toString(), details: (r.details ?? {}) as Record<string, unknown> }));
}
