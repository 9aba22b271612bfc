/**
 * `npm run worker`: an onboarding worker process for scale-out (set RUN_WORKER=0 on the web
 * processes if only these should run jobs). Needs DATABASE_URL (the shared PostgreSQL).
 */
import { createDb, prismaPoolSize } from "../server/db/client";
import { applyMigrations } from "../server/db/migrate";
import { parseEnv } from "../server/env";
import { startWorker } from "../server/jobs/worker";
import { createPipelineDeps } from "../server/onboarding/deps";

async function main() {
  const env = parseEnv(process.env);
  if (!env.DATABASE_URL) throw new Error("npm run worker needs DATABASE_URL (the PostgreSQL the app uses).");
  await applyMigrations(env.DATABASE_URL);
  const db = createDb(env.DATABASE_URL, prismaPoolSize({ runWorker: true, concurrency: env.WORKER_CONCURRENCY, web: false }));
  const w = await startWorker({ databaseUrl: env.DATABASE_URL, concurrency: env.WORKER_CONCURRENCY, stuckAfterMs: env.STUCK_AFTER_MS, db, deps: createPipelineDeps(db) });
  console.log(`[worker] running ${env.WORKER_CONCURRENCY} onboarding jobs at a time (pid ${process.pid}); Ctrl-C to stop`);
  const stop = async () => {
    await w.stop();
    await db.$disconnect();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((e: unknown) => {
  console.error(`[worker] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
