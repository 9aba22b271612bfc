/**
 * "Approve this destination" on a connection page (issue 8, item 3): a tenant admin turns the
 * host:port (or folder) that a NETWORK_BLOCKED connection was refused as "destination not
 * approved" into an approved destination for that source type, audited as
 * "destination.approved", and onboarding resumes for that connection and every other connection
 * of the tenant blocked on what the new rule covers. Only what the connection actually tried to
 * reach is approved, never a wider pattern.
 */
import { recordAudit, type AuditActor } from "../audit/audit-repository";
import { err, ok, type Result } from "../lib/result";
import { getConnection } from "./connection-repository";
import { viewConnectionPage } from "./connection-query";
import { addApprovedDestination, type ApprovedDestinationRow } from "./destination-repository";
import { connectionsCoveredBy, resumeBlocked, validateDestination, type DestinationAdminDeps, type DestinationError } from "./manage-destinations";
import { READ_ONLY_NAMESPACES } from "./submit-intent";

export type ApproveOutcome = { destination: ApprovedDestinationRow; resumed: number };

export async function approveBlockedDestination(deps: DestinationAdminDeps, tenantId: string, actor: AuditActor, connectionId: string): Promise<Result<ApproveOutcome, DestinationError>> {
  const conn = await getConnection(deps.db, tenantId, connectionId);
  if (!conn) return err({ code: "NOT_FOUND", message: "No connection has this id." });
  if (READ_ONLY_NAMESPACES.has(conn.namespace)) return err({ code: "READ_ONLY", message: `The "${conn.namespace}" namespace is read-only; its connections are never re-run.` });
  const blocked = (await viewConnectionPage(deps.db, tenantId, connectionId))?.blocked_destination;
  if (!blocked) return err({ code: "NOT_BLOCKED", message: "This connection is not waiting for a destination to be approved (it may have moved on already)." });

  const v = validateDestination(
    blocked.kind === "host"
      ? { kind: "host", pattern: blocked.host, ports: String(blocked.port), sourceTypes: [conn.sourceType], note: `Approved from connection ${conn.id}` }
      : { kind: "folder", pattern: blocked.path, ports: "", sourceTypes: [conn.sourceType], note: `Approved from connection ${conn.id}` },
    deps.dataDir,
  );
  if (!v.ok) return v;
  const row = await addApprovedDestination(deps.db, tenantId, v.value, { id: actor.id ?? undefined, label: actor.label });
  const target = blocked.kind === "host" ? `${v.value.pattern}:${blocked.port} for ${conn.sourceType}` : `${v.value.pattern} for ${conn.sourceType}`;
  await recordAudit(deps.db, tenantId, actor, "destination.approved", target, { connectionId: conn.id, kind: row.kind, pattern: row.pattern, ports: row.ports, sourceTypes: row.sourceTypes });
  const ids = new Set([conn.id, ...(await connectionsCoveredBy(deps, tenantId, v.value))]);
  const resumed = await resumeBlocked(deps, tenantId, [...ids], `Destination approved by ${actor.label}: ${target}`);
  return ok({ destination: row, resumed });
}
