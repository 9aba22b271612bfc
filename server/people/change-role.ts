/**
 * An admin changes someone's role. The last active admin of a tenant cannot be demoted: the
 * check and the change run in one transaction holding the tenant's lock, so two concurrent
 * demotions of the last two admins cannot both pass.
 */
import { recordAudit } from "../audit/audit-repository";
import type { Role } from "../auth/user-repository";
import { err, ok, type Result } from "../lib/result";
import { actorOf, type Admin, type PeopleDeps } from "./people-deps";
import { NO_SUCH_USER, peopleError, type PeopleError } from "./people-error";
import { countActiveAdmins, findPerson, updateRole, withTenantLock, type PersonRow } from "./people-repository";

export const lastAdminMessage = (email: string, doing: string) =>
  `${email} is the last active admin of this tenant and cannot be ${doing}: make someone else an admin first.`;

export async function changeRole(deps: PeopleDeps, admin: Admin, input: { userId: string; role: Role }): Promise<Result<PersonRow, PeopleError>> {
  return withTenantLock(deps.db, admin.tenantId, async (tx) => {
    const person = await findPerson(tx, admin.tenantId, input.userId);
    if (!person) return err(NO_SUCH_USER);
    if (person.role === input.role) return ok(person);
    if (person.role === "admin" && !person.disabledAt && (await countActiveAdmins(tx, admin.tenantId)) <= 1) {
      return err(peopleError("LAST_ADMIN", lastAdminMessage(person.email, "demoted")));
    }
    await updateRole(tx, admin.tenantId, person.id, input.role);
    await recordAudit(tx, admin.tenantId, actorOf(admin), "user.role_changed", person.email, { from: person.role, to: input.role });
    return ok({ ...person, role: input.role });
  });
}
