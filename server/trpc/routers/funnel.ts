import { z } from "zod";
import { getEnv } from "../../env";
import { getFunnel } from "../../onboarding/funnel";
import { FunnelMetricsSchema, NAMESPACE_RE } from "../../onboarding/schemas";
import { requireCapability, router } from "../init";

export const funnelRouter = router({
  get: requireCapability("view_funnel")
    .input(z.object({ namespace: z.string().regex(NAMESPACE_RE).default("autonomy") }))
    .output(FunnelMetricsSchema)
    .query(({ ctx, input }) => getFunnel(ctx.db, ctx.user.tenantId, input.namespace, { defaultTarget: getEnv().SLO_TARGET })),
});
