/** Starts the job worker inside the web process (the embedded default; RUN_WORKER=0 turns it off). */
import { getDb } from "../db/client";
import { getEnv, requireDatabaseUrl } from "../env";
import { logger } from "../lib/logger";
import { createPipelineDeps } from "../onboarding/deps";
import { startWorker } from "./worker";

const g = globalThis as unknown as { __aamWorker?: Promise<unknown> };

export function startEmbeddedWorker(): void {
  const env = getEnv();
  if (!env.runWorker || !env.DATABASE_URL) return;
  g.__aamWorker ??= startWorker({
    databaseUrl: requireDatabaseUrl(),
    concurrency: env.WORKER_CONCURRENCY,
    stuckAfterMs: env.STUCK_AFTER_MS,
    db: getDb(),
    deps: createPipelineDeps(getDb()),
  })
    .then((w) => {
      logger().info({ concurrency: env.WORKER_CONCURRENCY }, "onboarding worker started in the web process");
      const stop = () => void w.stop();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      return w;
    })
    .catch((e: unknown) => logger().error({ errorName: e instanceof Error ? e.name : "unknown" }, "could not start the onboarding worker"));
}
