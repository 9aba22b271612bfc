import { requestPasswordReset } from "../../../people/reset-password";
import { adminOf, peopleDeps, unwrap, usersProcedure, ZIssuedLink, ZUserId } from "./shared";

export const resetPassword = usersProcedure
  .input(ZUserId)
  .output(ZIssuedLink)
  .mutation(async ({ ctx, input }) => unwrap(await requestPasswordReset(peopleDeps(ctx.db), adminOf(ctx.user), input.userId)));
