import { z } from "zod";
import { inviteUser as invite } from "../../../people/invite-user";
import { adminOf, peopleDeps, unwrap, usersProcedure, ZIssuedLink, ZRole } from "./shared";

export const inviteUser = usersProcedure
  .input(z.object({ email: z.string().max(320), role: ZRole }))
  .output(ZIssuedLink)
  .mutation(async ({ ctx, input }) => unwrap(await invite(peopleDeps(ctx.db), adminOf(ctx.user), input), { path: "email", codes: ["INVALID", "EMAIL_TAKEN"] }));
