/**
 * The Audit page (admins): who did what and when in their tenant, with each action in words.
 * The log is append-only (a trigger refuses updates and deletes) and its details never hold a
 * secret (recordAudit drops secret-looking keys; callers pass none).
 */
import type { Db } from "../db/client";
import { ACTION_LABELS, actionLabel } from "../../lib/audit-words";
import { auditFacets, searchAudit, type AuditRow } from "./audit-query-repository";


export type AuditPageEntry = AuditRow & { label: string };
export type AuditPage = {
  entries: AuditPageEntry[];
  nextCursor: string | null;
  /** the people of the log, in order (the first MAX_FACET_ACTORS; `actorsComplete` false when there are more) */
  actors: string[];
  actorsComplete: boolean;
  actions: { action: string; label: string }[];
};

export async function viewAuditLog(db: Db, tenantId: string, filter: { actor?: string; action?: string; from?: Date; to?: Date; cursor?: string; limit?: number }): Promise<AuditPage> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
  const [rows, facets] = await Promise.all([
    searchAudit(db, tenantId, { actor: filter.actor, action: filter.action, from: filter.from, to: filter.to, beforeId: filter.cursor, limit: limit + 1 }),
    auditFacets(db, tenantId),
  ]);
  const page = rows.slice(0, limit);
  return {
    entries: page.map((r) => ({ ...r, label: actionLabel(r.action) })),
    nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
    actors: facets.actors,
    actorsComplete: facets.actorsComplete,
    actions: [...new Set([...Object.keys(ACTION_LABELS), ...facets.actions])].map((action) => ({ action, label: actionLabel(action) })),
  };
}
