/** An admin withdraws an open invite (or reset link) of their tenant: the link stops working at once. */
import { recordAudit } from "../audit/audit-repository";
import { err, ok, type Result } from "../lib/result";
import { actorOf, type Admin, type PeopleDeps } from "./people-deps";
import { peopleError, type PeopleError } from "./people-error";
import { inTransaction, revokeLink } from "./people-repository";

export async function revokeInvite(deps: PeopleDeps, admin: Admin, inviteId: string): Promise<Result<{ id: string; email: string }, PeopleError>> {
  const row = await inTransaction(deps.db, async (tx) => {
    const r = await revokeLink(tx, admin.tenantId, inviteId);
    if (r) await recordAudit(tx, admin.tenantId, actorOf(admin), r.kind === "invite" ? "invite.revoked" : "password.reset_revoked", r.email);
    return r;
  });
  return row ? ok({ id: row.id, email: row.email }) : err(peopleError("NOT_FOUND", "No open invite of this tenant has this id."));
}
