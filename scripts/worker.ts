/**
 * `npm run worker`: an onboarding worker process for scale-out (set RUN_WORKER=0 on the web
 * processes if only these should run jobs). Needs DATABASE_URL (the shared PostgreSQL).
 * A database that is down at start is waited for (with backoff, said on stderr); SIGTERM/SIGINT
 * stop taking work, let running attempts finish or hand them back within 10 s, and exit 0.
 */
import { createDb, prismaPoolSize, rawPoolSize } from "../server/db/client";
import { applyMigrations } from "../server/db/migrate";
import { parseEnv } from "../server/env";
import { describeDbFailure } from "../server/jobs/status";
import { startWorker, type WorkerHandle } from "../server/jobs/worker";
import { createPipelineDeps } from "../server/onboarding/deps";
import { backoffMs, isTransientError, sleep } from "../server/onboarding/transient";

async function main() {
  const env = parseEnv(process.env);
  if (!env.DATABASE_URL) throw new Error("npm run worker needs DATABASE_URL (the PostgreSQL the app uses).");
  let w: WorkerHandle | undefined;
  let stopping = false;
  const quit = new AbortController();
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    quit.abort();
    // hard cap: whatever happens, exit 0 within 10 s
    setTimeout(() => process.exit(0), 9_500).unref();
    await w?.stop({ graceMs: 6_000 });
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());

  for (let i = 1; ; i++) {
    try {
      await applyMigrations(env.DATABASE_URL);
      break;
    } catch (e) {
      if (!isTransientError(e) || stopping) throw e;
      const wait = backoffMs(i, { baseMs: 1_000, capMs: 15_000 });
      console.error(`[worker] ${describeDbFailure(e)}; trying again in ${(wait / 1000).toFixed(1)} s`);
      await sleep(wait, quit.signal);
      if (stopping) return;
    }
  }
  const sizes = { runWorker: true, concurrency: env.WORKER_CONCURRENCY, web: false };
  const db = createDb(env.DATABASE_URL, prismaPoolSize(sizes), { rawMax: rawPoolSize(sizes) });
  w = await startWorker({ databaseUrl: env.DATABASE_URL, concurrency: env.WORKER_CONCURRENCY, stuckAfterMs: env.STUCK_AFTER_MS, db, deps: createPipelineDeps(db) });
  await w.ready;
  if (!stopping) console.log(`[worker] running ${env.WORKER_CONCURRENCY} onboarding jobs at a time (pid ${process.pid}); Ctrl-C to stop`);
}

main().catch((e: unknown) => {
  console.error(`[worker] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
