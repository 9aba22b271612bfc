import { z } from "zod";
import { updateDestination as update } from "../../../onboarding/manage-destinations";
import { actorOf, adminProcedure, destinationDeps, unwrap, ZChangeOutcome, ZDestinationInput } from "./shared";

export const updateDestination = adminProcedure
  .input(ZDestinationInput.extend({ id: z.string().uuid() }))
  .output(ZChangeOutcome)
  // the kind of an entry never changes: the use-case keeps the stored one
  .mutation(async ({ ctx, input }) => unwrap(await update(destinationDeps(ctx.db), ctx.user.tenantId, actorOf(ctx.user), input.id, { ...input, kind: "host" })));
