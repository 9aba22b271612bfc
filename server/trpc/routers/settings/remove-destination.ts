import { z } from "zod";
import { removeDestination as remove } from "../../../onboarding/manage-destinations";
import { actorOf, adminProcedure, destinationDeps, unwrap, ZDestination } from "./shared";

export const removeDestination = adminProcedure
  .input(z.object({ id: z.string().uuid() }))
  .output(z.object({ destination: ZDestination }))
  .mutation(async ({ ctx, input }) => unwrap(await remove(destinationDeps(ctx.db), ctx.user.tenantId, actorOf(ctx.user), input.id)));
