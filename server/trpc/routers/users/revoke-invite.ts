import { z } from "zod";
import { revokeInvite as revoke } from "../../../people/revoke-invite";
import { adminOf, peopleDeps, unwrap, usersProcedure } from "./shared";

export const revokeInvite = usersProcedure
  .input(z.object({ inviteId: z.uuid() }))
  .output(z.object({ id: z.string(), email: z.string() }))
  .mutation(async ({ ctx, input }) => unwrap(await revoke(peopleDeps(ctx.db), adminOf(ctx.user), input.inviteId)));
