import { z } from "zod";
import { viewSettingsPage } from "../../../onboarding/manage-destinations";
import { adminProcedure, ZDestination, ZSecretBinding } from "./shared";

export const getSettings = adminProcedure
  .output(
    z.object({
      destinations: z.array(ZDestination),
      previewMasking: z.boolean(),
      recentChanges: z.array(z.object({ id: z.string(), actorLabel: z.string(), action: z.string(), target: z.string(), details: z.record(z.string(), z.unknown()), at: z.date() })),
      sourceTypes: z.array(z.string()).readonly(),
      secretBindings: z.object({ rows: z.array(ZSecretBinding), total: z.number(), approval: z.boolean() }),
    }),
  )
  .query(({ ctx }) => viewSettingsPage(ctx.db, ctx.user.tenantId));
