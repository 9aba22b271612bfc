/**
 * The worker: runs onboarding jobs, and every minute re-queues PENDING connections whose attempt
 * stopped making progress (a killed process), or gives up on them with a reason after
 * MAX_JOB_ATTEMPTS. The same code runs inside the web process and in `npm run worker`.
 */
import { Logger, run, type Runner, type Task } from "graphile-worker";
import { z } from "zod";
import { deleteStaleConsentRequests } from "../credentials/consent-request-repository";
import { workerPoolSize, type Db } from "../db/client";
import { logger } from "../lib/logger";
import { findStuckPending, giveUp } from "../onboarding/connection-repository";
import { runAttempt, type PipelineDeps } from "../onboarding/pipeline";
import { createQueue, MAX_JOB_ATTEMPTS, ONBOARD_TASK, REAP_TASK, type Queue } from "./queue";

const Payload = z.object({ connectionId: z.string().uuid() });

export type WorkerOptions = { databaseUrl: string; concurrency: number; stuckAfterMs: number; deps: PipelineDeps; db: Db };

/** Re-queues stuck PENDING connections; returns how many were re-queued and given up. */
export async function reapStuck(db: Db, queue: Queue, stuckAfterMs: number): Promise<{ requeued: number; failed: number }> {
  const stuck = await findStuckPending(db, stuckAfterMs);
  const failed = await giveUp(db, stuck, MAX_JOB_ATTEMPTS, `Onboarding did not complete after ${MAX_JOB_ATTEMPTS} attempts; post the intent again or heal it`);
  const retry = stuck.filter((id) => !failed.includes(id));
  if (retry.length) await queue.enqueueOnboarding(retry);
  return { requeued: retry.length, failed: failed.length };
}

export async function startWorker(opts: WorkerOptions): Promise<{ runner: Runner; queue: Queue; stop: () => Promise<void> }> {
  const log = logger().child({ component: "worker" });
  const queue = await createQueue(opts.databaseUrl);
  const tasks: Record<string, Task> = {
    [ONBOARD_TASK]: async (payload) => {
      const { connectionId } = Payload.parse(payload);
      await runAttempt(opts.deps, connectionId);
    },
    [REAP_TASK]: async () => {
      const r = await reapStuck(opts.db, queue, opts.stuckAfterMs);
      if (r.requeued || r.failed) log.info(r, "re-queued stuck onboarding attempts");
      // consent links live 10 minutes; keep a day of them for support, then let them go
      await deleteStaleConsentRequests(opts.db, new Date(Date.now() - 24 * 3_600_000));
    },
  };
  const runner = await run({
    connectionString: opts.databaseUrl,
    concurrency: opts.concurrency,
    // one connection per concurrent job plus two for fetch/complete (graphile-worker warns below concurrency)
    maxPoolSize: workerPoolSize(opts.concurrency),
    // fetch and complete jobs in batches: far fewer queue round trips under a 10,000-intent burst
    preset: { worker: { localQueue: { size: Math.max(2, opts.concurrency) }, completeJobBatchDelay: 5 } },
    noHandleSignals: true,
    pollInterval: 2_000,
    taskList: tasks,
    crontab: `* * * * * ${REAP_TASK} ?fill=2m&max=1`,
    logger: new Logger((scope) => (level, message) => {
      if (level === "error" || level === "warning") log.warn({ scope: scope.label, taskIdentifier: scope.taskIdentifier }, message.slice(0, 300));
    }),
  });
  // one reap at start: a process that was killed a moment ago left PENDING rows behind
  void reapStuck(opts.db, queue, opts.stuckAfterMs).catch(() => undefined);
  return {
    runner,
    queue,
    stop: async () => {
      await runner.stop();
      await queue.close();
    },
  };
}
