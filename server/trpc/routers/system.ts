import { z } from "zod";
import { checkHealth } from "../../health";
import { authedProcedure, publicProcedure, router } from "../init";

export const systemRouter = router({
  health: publicProcedure
    .output(
      z.object({
        status: z.enum(["ok", "degraded"]),
        database: z.object({ status: z.enum(["up", "down"]), latency_ms: z.number().nullable(), migrations: z.number().nullable() }),
      }),
    )
    .query(({ ctx }) => checkHealth(ctx.db)),
  me: authedProcedure
    .output(z.object({ id: z.string(), email: z.string().nullable(), role: z.enum(["admin", "exec"]), tenantId: z.string() }))
    .query(({ ctx }) => ({ id: ctx.user.id, email: ctx.user.email ?? null, role: ctx.user.role, tenantId: ctx.user.tenantId })),
});
