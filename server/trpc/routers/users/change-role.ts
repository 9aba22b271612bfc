import { changeRole as change } from "../../../people/change-role";
import { adminOf, peopleDeps, sessionsChanged, unwrap, usersProcedure, ZPerson, ZRole, ZUserId } from "./shared";

export const changeRole = usersProcedure
  .input(ZUserId.extend({ role: ZRole }))
  .output(ZPerson)
  .mutation(async ({ ctx, input }) => sessionsChanged(unwrap(await change(peopleDeps(ctx.db), adminOf(ctx.user), input))));
