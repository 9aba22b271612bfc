/**
 * An admin invites someone by email with a role (admin or exec): a link valid for 72 hours,
 * returned once (only its hash is stored). Inviting the same email again replaces the open
 * invite. An email that already has an account (in any tenant: emails are unique) is refused.
 */
import { recordAudit } from "../audit/audit-repository";
import type { Role } from "../auth/user-repository";
import { err, ok, type Result } from "../lib/result";
import { actorOf, nowOf, type Admin, type PeopleDeps } from "./people-deps";
import { peopleError, type PeopleError } from "./people-error";
import { emailTaken, inTransaction, insertLink, revokeOpenLinks } from "./people-repository";
import { INVITE_TTL_MS, linkPath, newLinkToken } from "./tokens";

export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type IssuedLink = { id: string; email: string; role: Role; path: string; expiresAt: Date };

export async function inviteUser(deps: PeopleDeps, admin: Admin, input: { email: string; role: Role }): Promise<Result<IssuedLink, PeopleError>> {
  const email = input.email.trim().toLowerCase();
  if (!EMAIL_RE.test(email) || email.length > 320) return err(peopleError("INVALID", "Enter the email address of the person to invite."));
  if (await emailTaken(deps.db, email)) return err(peopleError("EMAIL_TAKEN", `${email} already has an account (an email belongs to one account across all tenants).`));
  const { token, hash } = newLinkToken();
  const expiresAt = new Date(nowOf(deps).getTime() + INVITE_TTL_MS);
  const link = await inTransaction(deps.db, async (tx) => {
    await revokeOpenLinks(tx, admin.tenantId, { kind: "invite", email });
    const row = await insertLink(tx, { tenantId: admin.tenantId, kind: "invite", email, role: input.role, tokenHash: hash, expiresAt, createdById: admin.id, createdBy: admin.email });
    await recordAudit(tx, admin.tenantId, actorOf(admin), "user.invited", email, { role: input.role, expires_at: expiresAt.toISOString() });
    return row;
  });
  return ok({ id: link.id, email, role: input.role, path: linkPath(token), expiresAt });
}
