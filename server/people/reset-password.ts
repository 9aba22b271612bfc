/**
 * An admin makes a password-reset link for someone of their tenant (local or single sign-on):
 * the same mechanism as invites, valid for 24 hours, returned once; a newer link replaces an
 * open one. Setting the password from it ends the user's other sessions (accept-invite.ts).
 */
import { recordAudit } from "../audit/audit-repository";
import { err, ok, type Result } from "../lib/result";
import type { IssuedLink } from "./invite-user";
import { actorOf, nowOf, type Admin, type PeopleDeps } from "./people-deps";
import { NO_SUCH_USER, peopleError, type PeopleError } from "./people-error";
import { findPerson, inTransaction, insertLink, revokeOpenLinks } from "./people-repository";
import { linkPath, newLinkToken, RESET_TTL_MS } from "./tokens";

export async function requestPasswordReset(deps: PeopleDeps, admin: Admin, userId: string): Promise<Result<IssuedLink, PeopleError>> {
  const person = await findPerson(deps.db, admin.tenantId, userId);
  if (!person) return err(NO_SUCH_USER);
  if (person.disabledAt) return err(peopleError("DISABLED", `${person.email} is disabled: enable the account before resetting its password.`));
  const { token, hash } = newLinkToken();
  const expiresAt = new Date(nowOf(deps).getTime() + RESET_TTL_MS);
  const link = await inTransaction(deps.db, async (tx) => {
    await revokeOpenLinks(tx, admin.tenantId, { kind: "reset", userId: person.id });
    const row = await insertLink(tx, { tenantId: admin.tenantId, kind: "reset", email: person.email, role: person.role, userId: person.id, tokenHash: hash, expiresAt, createdById: admin.id, createdBy: admin.email });
    await recordAudit(tx, admin.tenantId, actorOf(admin), "password.reset_requested", person.email, { expires_at: expiresAt.toISOString() });
    return row;
  });
  return ok({ id: link.id, email: person.email, role: person.role, path: linkPath(token), expiresAt });
}
