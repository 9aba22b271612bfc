/**
 * The Audit page (admins): who did what and when in their tenant, with each action in words.
 * The log is append-only (a trigger refuses updates and deletes) and its details never hold a
 * secret (recordAudit drops secret-looking keys; callers pass none).
 */
import type { Db } from "../db/client";
import { auditFacets, searchAudit, type AuditRow } from "./audit-query-repository";

/** Every action the product records, in words (the page shows these, never the codes). */
export const ACTION_LABELS: Record<string, string> = {
  "sign_in.succeeded": "Signed in",
  "sign_in.failed": "Sign-in refused",
  "user.invited": "Invited a user",
  "invite.accepted": "Accepted an invite",
  "invite.revoked": "Withdrew an invite",
  "user.role_changed": "Changed a role",
  "user.disabled": "Disabled a user",
  "user.enabled": "Re-enabled a user",
  "password.reset_requested": "Made a password-reset link",
  "password.reset_revoked": "Withdrew a password-reset link",
  "password.reset_completed": "Set a new password from a reset link",
  "api_key.created": "Created an API key",
  "api_key.revoked": "Revoked an API key",
  "heal.started": "Started a heal",
  "consent.started": "Started an admin consent",
  "consent.completed": "Completed an admin consent",
  "consent.denied": "Admin consent denied",
  "consent.refused": "Admin consent refused",
  "consent.failed": "Admin consent failed",
  "destination.added": "Added an approved destination",
  "destination.updated": "Changed an approved destination",
  "destination.removed": "Removed an approved destination",
  "destination.approved": "Approved a blocked destination",
  "settings.preview_masking": "Changed preview masking",
  "settings.changed": "Changed Safe Mode, caps or the SLO target",
  "oauth_app.added": "Added an OAuth app",
  "oauth_app.updated": "Changed an OAuth app",
  "oauth_app.removed": "Removed an OAuth app",
  "tenant.created": "Created the tenant",
  "tenant.disabled": "Disabled the tenant",
  "tenant.enabled": "Re-enabled the tenant",
};

export const actionLabel = (action: string) => ACTION_LABELS[action] ?? action.replace(/[._]/g, " ");

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
