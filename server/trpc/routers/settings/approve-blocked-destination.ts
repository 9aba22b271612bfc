import { z } from "zod";
import { approveBlockedDestination as approve } from "../../../onboarding/approve-destination";
import { actorOf, adminProcedure, destinationDeps, unwrap, ZChangeOutcome } from "./shared";

/** "Approve this destination" on a NETWORK_BLOCKED connection's page. */
export const approveBlockedDestination = adminProcedure
  .input(z.object({ connectionId: z.string().uuid() }))
  .output(ZChangeOutcome)
  .mutation(async ({ ctx, input }) => unwrap(await approve(destinationDeps(ctx.db), ctx.user.tenantId, actorOf(ctx.user), input.connectionId)));
