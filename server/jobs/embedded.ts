/**
 * Starts the job worker inside the web process (the embedded default; RUN_WORKER=0 turns it off).
 * startWorker supervises itself (a database that is down at boot or restarts is waited for with
 * backoff, /api/health says so meanwhile), so nothing here keeps a failed start.
 */
import { getDb } from "../db/client";
import { getEnv, requireDatabaseUrl } from "../env";
import { logger } from "../lib/logger";
import { createPipelineDeps } from "../onboarding/deps";
import { setWorkerState } from "./status";
import { startWorker, type WorkerHandle } from "./worker";

const g = globalThis as unknown as { __aamWorker?: Promise<WorkerHandle | undefined> };

export function startEmbeddedWorker(): void {
  const env = getEnv();
  if (!env.runWorker || !env.DATABASE_URL) return;
  if (g.__aamWorker) return;
  setWorkerState({ status: "starting" });
  const started = startWorker({
    databaseUrl: requireDatabaseUrl(),
    concurrency: env.WORKER_CONCURRENCY,
    stuckAfterMs: env.STUCK_AFTER_MS,
    db: getDb(),
    deps: createPipelineDeps(getDb()),
  }).then((w) => {
    void w.ready.then(() => logger().info({ concurrency: env.WORKER_CONCURRENCY }, "onboarding worker started in the web process"));
    return w;
  });
  g.__aamWorker = started.catch((e: unknown) => {
    // startWorker itself does not reject; if it ever does, forget it so the next call starts again
    logger().error({ errorName: e instanceof Error ? e.name : "unknown" }, "could not start the onboarding worker");
    setWorkerState({ status: "retrying", lastError: "could not start the onboarding worker" });
    g.__aamWorker = undefined;
    return undefined;
  });
}

/** Graceful stop of the web process's worker (instrumentation.ts, on SIGTERM): running attempts finish or hand back. */
export async function stopEmbeddedWorker(): Promise<void> {
  const w = await g.__aamWorker;
  await w?.stop({ graceMs: 6_000 });
}
