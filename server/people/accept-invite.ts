/**
 * The public side of invite and reset links (/invite/<token>): what a link is for, and setting
 * a password from it. An invite creates the user in the inviting tenant with the invited role;
 * a reset link sets the user's new password and ends their other sessions. A link works once,
 * until it expires, while the tenant (and, for a reset, the user) is enabled. Passwords are
 * strength-checked (password-strength.ts) and stored only as a hash.
 */
import { recordAudit } from "../audit/audit-repository";
import { Prisma } from "../db/client";
import { err, ok, type Result } from "../lib/result";
import { hashOf, nowOf, type PeopleDeps } from "./people-deps";
import { peopleError, type PeopleError } from "./people-error";
import { consumeLink, createUser, findLinkByTokenHash, inTransaction, updatePasswordHash, type LinkRow } from "./people-repository";
import { passwordProblem } from "./password-strength";
import { hashLinkToken, type LinkKind } from "./tokens";

export type LinkView = { kind: LinkKind; email: string; tenantName: string; expiresAt: Date };

const invalid = (why: string) => err(peopleError("LINK_INVALID", why));

async function openLink(deps: PeopleDeps, token: string): Promise<Result<LinkRow, PeopleError>> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return invalid("This link is not valid: check that it was copied completely.");
  const link = await findLinkByTokenHash(deps.db, hashLinkToken(token));
  if (!link || link.revokedAt) return invalid("This link is not valid: it may have been replaced by a newer one or withdrawn. Ask your admin for a new link.");
  if (link.usedAt) return invalid("This link has already been used. Sign in with your password, or ask your admin for a new link.");
  if (link.expiresAt <= nowOf(deps)) return invalid("This link has expired. Ask your admin for a new one.");
  if (link.tenantDisabled) return invalid("This organisation's access is disabled.");
  if (link.kind === "reset" && (!link.user || link.user.disabledAt)) return invalid("This account is disabled. Ask your admin.");
  return ok(link);
}

export async function describeLink(deps: PeopleDeps, token: string): Promise<Result<LinkView, PeopleError>> {
  const r = await openLink(deps, token);
  return r.ok ? ok({ kind: r.value.kind, email: r.value.email, tenantName: r.value.tenantName, expiresAt: r.value.expiresAt }) : r;
}

export async function acceptLink(deps: PeopleDeps, input: { token: string; password: string; confirm?: string }): Promise<Result<{ kind: LinkKind; email: string; userId: string }, PeopleError>> {
  const r = await openLink(deps, input.token);
  if (!r.ok) return r;
  const link = r.value;
  const weak = passwordProblem(input.password, link.email);
  if (weak) return err(peopleError("WEAK_PASSWORD", weak));
  if (input.confirm !== undefined && input.confirm !== input.password) return err(peopleError("INVALID", "The two passwords differ; type the same password twice."));
  const passwordHash = await hashOf(deps, input.password);
  try {
    return await inTransaction(deps.db, async (tx) => {
      // single use, even for two submissions at once: only one marks it used
      if (!(await consumeLink(tx, link.id, nowOf(deps)))) return invalid("This link has already been used. Sign in with your password, or ask your admin for a new link.");
      if (link.kind === "invite") {
        const user = await createUser(tx, { tenantId: link.tenantId, email: link.email, role: link.role, passwordHash });
        await recordAudit(tx, link.tenantId, { id: user.id, label: link.email }, "invite.accepted", link.email, { role: link.role, invited_by: link.createdBy });
        return ok({ kind: link.kind, email: link.email, userId: user.id });
      }
      await updatePasswordHash(tx, link.tenantId, link.user!.id, passwordHash);
      await recordAudit(tx, link.tenantId, { id: link.user!.id, label: link.email }, "password.reset_completed", link.email, { requested_by: link.createdBy });
      return ok({ kind: link.kind, email: link.email, userId: link.user!.id });
    });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      return err(peopleError("EMAIL_TAKEN", `${link.email} already has an account. Sign in, or ask your admin.`));
    }
    throw e;
  }
}
