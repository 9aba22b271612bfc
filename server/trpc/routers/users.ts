/** The Users page (admins only): people of the tenant, invites, roles, disable, reset links. One procedure per file in ./users/. */
import { router } from "../init";
import { changeRole } from "./users/change-role";
import { inviteUser } from "./users/invite-user";
import { listUsers } from "./users/list-users";
import { resetPassword } from "./users/reset-password";
import { revokeInvite } from "./users/revoke-invite";
import { setUserDisabled } from "./users/set-user-disabled";

export const usersRouter = router({
  list: listUsers,
  invite: inviteUser,
  revokeInvite,
  changeRole,
  setDisabled: setUserDisabled,
  resetPassword,
});
