/** Assembles the routers; nothing else lives here. */
import type { inferRouterOutputs } from "@trpc/server";
import { router } from "./init";
import { systemRouter } from "./routers/system";

export const appRouter = router({
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
