import { z } from "zod";
import { addDestination as add } from "../../../onboarding/manage-destinations";
import { actorOf, adminProcedure, destinationDeps, unwrap, ZChangeOutcome, ZDestinationInput } from "./shared";

export const addDestination = adminProcedure
  .input(ZDestinationInput.extend({ kind: z.enum(["host", "folder"]) }))
  .output(ZChangeOutcome)
  .mutation(async ({ ctx, input }) => unwrap(await add(destinationDeps(ctx.db), ctx.user.tenantId, actorOf(ctx.user), input)));
