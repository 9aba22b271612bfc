/**
 * Use-cases behind secret bindings (secret-binding.ts): the Settings page lists where each of the
 * tenant's own secrets may go and lets an admin remove a binding; a connection page refused for
 * its secret's binding offers "Allow this secret here", which binds the secret to that
 * connection's source type and destination too and re-runs every waiting connection of the
 * tenant that it now covers. Every change is in the audit log with who made it.
 */
import { recordAudit, type AuditActor } from "../audit/audit-repository";
import type { Db } from "../db/client";
import { err, ok, type Result } from "../lib/result";
import { getConnection, listBlockedWithLocator, markBlockedForRetry } from "./connection-repository";
import { forgetAllowedBindings, judgeUse, secretDestination } from "./secret-binding";
import { addBinding, listBindings, removeBinding, type SecretBindingRow } from "./secret-binding-repository";
import { secretBindingApprovalFor, setSecretBindingApproval } from "./settings-repository";
import { READ_ONLY_NAMESPACES } from "./submit-intent";

export type BindingError = { code: "NOT_FOUND" | "NOT_BOUND" | "READ_ONLY" | "ALREADY_ALLOWED"; message: string };

/** What a connection page says about its secret's binding. */
export type ConnectionBinding = {
  locator: string;
  sourceType: string;
  /** where this connection would send the secret */
  destination: string;
  /** this connection's use is bound (or nothing is bound yet and its first successful attempt binds it: the organisation does not approve first uses) */
  allowed: boolean;
  /** the oldest of the bindings its use is compared with (BINDINGS_SHOWN at most) */
  bound: SecretBindingRow[];
  /** how many there are */
  boundTotal: number;
};

/** Waiting connections re-run after one allowance, at most (the rest wait for their next heal or re-post). */
export const ALLOW_RESUMES = 1_000;

export async function bindingOfConnection(db: Db, tenantId: string, connectionId: string): Promise<ConnectionBinding | null> {
  const conn = await getConnection(db, tenantId, connectionId);
  if (!conn) return null;
  const use = await judgeUse(db, { tenantId, locator: conn.credentialLocator, sourceType: conn.sourceType, config: conn.config });
  return use && { locator: use.key, sourceType: conn.sourceType, destination: use.destination, allowed: use.allowed, bound: use.oldest, boundTotal: use.total };
}

export async function allowSecretForConnection(
  deps: { db: Db; enqueue: (ids: readonly string[]) => Promise<void> },
  tenantId: string,
  actor: AuditActor,
  connectionId: string,
): Promise<Result<{ binding: SecretBindingRow; resumed: number }, BindingError>> {
  const conn = await getConnection(deps.db, tenantId, connectionId);
  if (!conn) return err({ code: "NOT_FOUND", message: "No connection has this id." });
  if (READ_ONLY_NAMESPACES.has(conn.namespace)) return err({ code: "READ_ONLY", message: `The "${conn.namespace}" namespace is read-only; its connections are never re-run.` });
  const state = await bindingOfConnection(deps.db, tenantId, connectionId);
  if (!state) return err({ code: "NOT_BOUND", message: `${conn.credentialLocator} is not a secret that is bound to a destination (consent tokens and the sandboxes' own secrets are bound elsewhere).` });
  if (state.allowed) return err({ code: "ALREADY_ALLOWED", message: `${state.locator} may already be used here (${state.sourceType}${state.destination ? ` at ${state.destination}` : ""}).` });
  const row = await addBinding(deps.db, { tenantId, locator: state.locator, sourceType: state.sourceType, destination: state.destination }, actor);
  await recordAudit(deps.db, tenantId, actor, "secret_binding.allowed", state.locator, { sourceType: state.sourceType, destination: state.destination, connectionId });
  // this connection and every other one waiting with the same secret for the same place
  const waiting = await listBlockedWithLocator(deps.db, tenantId, conn.credentialLocator, state.sourceType, ALLOW_RESUMES);
  const ids = [...new Set([connectionId, ...waiting.filter((w) => secretDestination(state.sourceType, w.config) === state.destination).map((w) => w.id)])];
  const moved = await markBlockedForRetry(deps.db, tenantId, `${actor.label} allowed ${state.locator} for ${state.sourceType}${state.destination ? ` at ${state.destination}` : ""}`, ids, "secret_binding");
  if (moved.length) await deps.enqueue(moved);
  return ok({ binding: row, resumed: moved.length });
}

export async function listSecretBindings(db: Db, tenantId: string): Promise<{ rows: SecretBindingRow[]; total: number }> {
  return listBindings(db, tenantId);
}

/** Removes one binding: the locator's next use elsewhere is refused while others stand, and binds anew when none does. */
export async function removeSecretBinding(db: Db, tenantId: string, actor: AuditActor, id: string): Promise<Result<SecretBindingRow, BindingError>> {
  const row = await removeBinding(db, tenantId, id);
  if (!row) return err({ code: "NOT_FOUND", message: "This binding no longer exists (someone may have removed it already)." });
  forgetAllowedBindings();
  await recordAudit(db, tenantId, actor, "secret_binding.removed", row.locator, { sourceType: row.sourceType, destination: row.destination, origin: row.origin });
  return ok(row);
}

/** Settings: whether a secret bound nowhere waits for an admin to allow its first destination (audited when it changes). */
export async function changeSecretBindingApproval(db: Db, tenantId: string, actor: AuditActor, on: boolean): Promise<{ secretBindingApproval: boolean }> {
  const before = await secretBindingApprovalFor(db, tenantId);
  const after = await setSecretBindingApproval(db, tenantId, on);
  // (the detail's key names no "secret": recordAudit drops such keys)
  if (before !== after) await recordAudit(db, tenantId, actor, "secret_binding.approval", after ? "approval on" : "approval off", { approvesFirstDestination: after });
  return { secretBindingApproval: after };
}
