/** Assembles the routers; nothing else lives here. */
import type { inferRouterOutputs } from "@trpc/server";
import { router } from "./init";
import { connectionsRouter } from "./routers/connections";
import { funnelRouter } from "./routers/funnel";
import { systemRouter } from "./routers/system";

export const appRouter = router({
  system: systemRouter,
  funnel: funnelRouter,
  connections: connectionsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
