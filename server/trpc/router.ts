/** Assembles the routers; nothing else lives here. */
import type { inferRouterOutputs } from "@trpc/server";
import { router } from "./init";
import { apiKeysRouter } from "./routers/api-keys";
import { auditRouter } from "./routers/audit";
import { connectionsRouter } from "./routers/connections";
import { consentsRouter } from "./routers/consents";
import { funnelRouter } from "./routers/funnel";
import { settingsRouter } from "./routers/settings";
import { systemRouter } from "./routers/system";
import { usersRouter } from "./routers/users";

export const appRouter = router({
  system: systemRouter,
  funnel: funnelRouter,
  connections: connectionsRouter,
  apiKeys: apiKeysRouter,
  consents: consentsRouter,
  settings: settingsRouter,
  users: usersRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
