import { z } from "zod";
import { changePreviewMasking } from "../../../onboarding/manage-destinations";
import { actorOf, adminProcedure } from "./shared";

export const setPreviewMasking = adminProcedure
  .input(z.object({ on: z.boolean() }))
  .output(z.object({ previewMasking: z.boolean() }))
  .mutation(({ ctx, input }) => changePreviewMasking(ctx.db, ctx.user.tenantId, actorOf(ctx.user), input.on));
