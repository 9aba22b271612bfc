import { z } from "zod";
import type { Db } from "../../db/client";
import { checkHealth, type Health } from "../../health";
import { authedProcedure, publicProcedure, router } from "../init";

/** A public procedure must not cost a database query per call: one check a second, shared by all callers. */
export const HEALTH_CACHE_MS = 1_000;
let lastHealth: { at: number; value: Promise<Health> } | undefined;
export function cachedHealth(db: Db, now = Date.now()): Promise<Health> {
  if (!lastHealth || now - lastHealth.at >= HEALTH_CACHE_MS) lastHealth = { at: now, value: checkHealth(db) };
  return lastHealth.value;
}

export const systemRouter = router({
  health: publicProcedure
    .output(
      z.object({
        status: z.enum(["ok", "degraded"]),
        database: z.object({ status: z.enum(["up", "down"]), latency_ms: z.number().nullable(), migrations: z.number().nullable() }),
      }),
    )
    .query(({ ctx }) => cachedHealth(ctx.db)),
  me: authedProcedure
    .output(z.object({ id: z.string(), email: z.string().nullable(), role: z.enum(["admin", "exec"]), tenantId: z.string() }))
    .query(({ ctx }) => ({ id: ctx.user.id, email: ctx.user.email ?? null, role: ctx.user.role, tenantId: ctx.user.tenantId })),
});
