import { z } from "zod";
import { setUserDisabled as set } from "../../../people/set-user-disabled";
import { adminOf, peopleDeps, sessionsChanged, unwrap, usersProcedure, ZPerson, ZUserId } from "./shared";

export const setUserDisabled = usersProcedure
  .input(ZUserId.extend({ disabled: z.boolean() }))
  .output(ZPerson)
  .mutation(async ({ ctx, input }) => sessionsChanged(unwrap(await set(peopleDeps(ctx.db), adminOf(ctx.user), input))));
