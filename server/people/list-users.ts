/** The Users page: everyone of the admin's tenant (local and single sign-on) and the open invites. */
import type { Admin, PeopleDeps } from "./people-deps";
import { nowOf } from "./people-deps";
import { countActiveAdmins, listOpenInvites, listPeople, type OpenLinkRow, type PersonRow } from "./people-repository";

export type PeoplePage = {
  users: (PersonRow & { isYou: boolean })[];
  invites: (Pick<OpenLinkRow, "id" | "email" | "role" | "expiresAt" | "createdBy" | "createdAt"> & { expired: boolean })[];
  /** every open invite, where `invites` lists the newest OPEN_INVITES_LISTED */
  invitesTotal: number;
  activeAdmins: number;
};

export async function listUsers(deps: PeopleDeps, admin: Admin): Promise<PeoplePage> {
  const [users, open, activeAdmins] = await Promise.all([listPeople(deps.db, admin.tenantId), listOpenInvites(deps.db, admin.tenantId), countActiveAdmins(deps.db, admin.tenantId)]);
  const now = nowOf(deps);
  return {
    users: users.map((u) => ({ ...u, isYou: u.id === admin.id })),
    invites: open.invites.map(({ id, email, role, expiresAt, createdBy, createdAt }) => ({ id, email, role, expiresAt, createdBy, createdAt, expired: expiresAt <= now })),
    invitesTotal: open.total,
    activeAdmins,
  };
}
