/**
 * An admin disables or re-enables someone. A disabled user cannot sign in, and their sessions end
 * (the session version is bumped; sessions are re-checked against the database). Nobody disables
 * their own account, and the last active admin cannot be disabled (checked under the tenant's
 * lock, as for role changes). Open reset links of a disabled user are revoked.
 */
import { recordAudit } from "../audit/audit-repository";
import { err, ok, type Result } from "../lib/result";
import { lastAdminMessage } from "./change-role";
import { actorOf, type Admin, type PeopleDeps } from "./people-deps";
import { NO_SUCH_USER, peopleError, type PeopleError } from "./people-error";
import { countActiveAdmins, findPerson, revokeOpenLinks, updateDisabled, withTenantLock, type PersonRow } from "./people-repository";

export async function setUserDisabled(deps: PeopleDeps, admin: Admin, input: { userId: string; disabled: boolean }): Promise<Result<PersonRow, PeopleError>> {
  return withTenantLock(deps.db, admin.tenantId, async (tx) => {
    const person = await findPerson(tx, admin.tenantId, input.userId);
    if (!person) return err(NO_SUCH_USER);
    if (Boolean(person.disabledAt) === input.disabled) return ok(person);
    if (input.disabled) {
      if (person.id === admin.id) return err(peopleError("SELF", "You cannot disable your own account; another admin can."));
      if (person.role === "admin" && (await countActiveAdmins(tx, admin.tenantId)) <= 1) return err(peopleError("LAST_ADMIN", lastAdminMessage(person.email, "disabled")));
      await revokeOpenLinks(tx, admin.tenantId, { kind: "reset", userId: person.id });
    }
    await updateDisabled(tx, admin.tenantId, person.id, input.disabled);
    await recordAudit(tx, admin.tenantId, actorOf(admin), input.disabled ? "user.disabled" : "user.enabled", person.email, { role: person.role });
    return ok({ ...person, disabledAt: input.disabled ? new Date() : null });
  });
}
