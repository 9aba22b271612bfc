import { z } from "zod";
import { listUsers as list } from "../../../people/list-users";
import { adminOf, peopleDeps, usersProcedure, ZPerson, ZRole } from "./shared";

export const listUsers = usersProcedure
  .output(
    z.object({
      users: z.array(ZPerson.extend({ isYou: z.boolean() })),
      invites: z.array(z.object({ id: z.string(), email: z.string(), role: ZRole, expiresAt: z.date(), createdBy: z.string(), createdAt: z.date(), expired: z.boolean() })),
      invitesTotal: z.number().int().nonnegative(),
      activeAdmins: z.number(),
    }),
  )
  .query(({ ctx }) => list(peopleDeps(ctx.db), adminOf(ctx.user)));
