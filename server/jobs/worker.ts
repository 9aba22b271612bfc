/**
 * The worker: runs onboarding jobs. The same code runs inside the web process and in
 * `npm run worker`. Issue 11:
 *  - one attempt at a time per connection: attempts hold a lease renewed by a heartbeat
 *    (server/onboarding/lease.ts); a second job for a running connection does nothing;
 *  - recovery in seconds: every HEARTBEAT_MS the worker writes its liveness row, releases the
 *    queue locks of workers that stopped beating (their prefetched jobs run again at once) and
 *    takes over expired leases of dead workers' attempts (re-queued first in line, the lost try
 *    counted in the run; after MAX_RUN_ATTEMPTS tries the connection says so, as ERROR);
 *  - every minute, PENDING connections no attempt holds and no job moved for STUCK_AFTER_MS are
 *    re-queued (a lost job), and stale consent requests are deleted;
 *  - runs through database outages: the job runner is supervised and restarted with backoff
 *    when its start fails or it stops (graphile-worker shuts a pool down when it cannot
 *    complete jobs), and the dead pool's locks are released;
 *  - graceful stop: takes no new work, lets running attempts finish for a few seconds, then
 *    asks them to hand their connection back (re-queued) — all within 10 s.
 */
import { EventEmitter } from "node:events";
import { Logger, run, type Runner, type Task, type WorkerEvents } from "graphile-worker";
import { z } from "zod";
import { deleteStaleConsentRequests } from "../credentials/consent-request-repository";
import { workerPoolSize, type Db } from "../db/client";
import { logger } from "../lib/logger";
import { giveUp, reapExpiredLeases, releaseLease } from "../onboarding/connection-repository";
import { drain, heldCount, heldIds, HEARTBEAT_MS, isDraining, LEASE_MS, workerId } from "../onboarding/lease";
import { runAttemptDetailed, type PipelineDeps } from "../onboarding/pipeline";
import { backoffMs, MAX_RUN_ATTEMPTS, sleep } from "../onboarding/transient";
import { inlineRunner, setInlineRunner, type InlineRunner } from "./inline";
import { createQueue, ONBOARD_TASK, REAP_TASK, type Queue } from "./queue";
import { describeDbFailure, setWorkerState } from "./status";
import { createStatisticsKeeper } from "../db/statistics";
import { beatWorker, findDeadWorkers, findLostPending, forgetWorkers, removeWorker } from "./worker-repository";

const Payload = z.object({ connectionId: z.string().uuid() });

export type WorkerOptions = { databaseUrl: string; concurrency: number; stuckAfterMs: number; deps: PipelineDeps; db: Db };

export type WorkerHandle = {
  queue: Queue;
  /** the in-process fast path of a single intent (server/jobs/inline.ts), registered while the runner runs */
  inline: InlineRunner;
  /** the current job runner (undefined while it is (re)starting) */
  readonly runner: Runner | undefined;
  /** resolves once the job runner is up for the first time */
  ready: Promise<void>;
  /** graceful stop: no new work; running attempts finish or hand back within `graceMs` + 3 s */
  stop: (opts?: { graceMs?: number }) => Promise<void>;
};

const GIVE_UP_REASON = `Onboarding did not complete after ${MAX_RUN_ATTEMPTS} attempts; post the intent again or heal it`;
/** recovered connections go first in line: they have waited already */
const RECOVERED_PRIORITY = -1;

/**
 * The slow reaper: re-queues (first in line: they have waited) the PENDING connections the queue
 * lost — no attempt holds them, no job of theirs waits, no progress for `stuckAfterMs`; gives up
 * on those whose run used its tries.
 */
export async function reapStuck(db: Db, queue: Pick<Queue, "enqueueOnboarding">, stuckAfterMs: number): Promise<{ requeued: number; failed: number }> {
  const stuck = await findLostPending(db, stuckAfterMs);
  const failed = await giveUp(db, stuck, MAX_RUN_ATTEMPTS, GIVE_UP_REASON);
  const retry = stuck.filter((id) => !failed.includes(id));
  if (retry.length) await queue.enqueueOnboarding(retry, { priority: RECOVERED_PRIORITY });
  return { requeued: retry.length, failed: failed.length };
}

/** The fast reaper: takes over the attempts of dead workers (expired leases of owners with no live heartbeat). */
export async function reapExpired(db: Db, queue: Pick<Queue, "enqueueOnboarding">): Promise<{ requeued: number; failed: number }> {
  const freed = await reapExpiredLeases(db, LEASE_MS, { owner: workerId(), ids: heldIds() });
  if (!freed.length) return { requeued: 0, failed: 0 };
  const spent = freed.filter((r) => r.runAttempts >= MAX_RUN_ATTEMPTS).map((r) => r.id);
  const failed = await giveUp(db, spent, MAX_RUN_ATTEMPTS, GIVE_UP_REASON);
  const retry = freed.map((r) => r.id).filter((id) => !failed.includes(id));
  if (retry.length) await queue.enqueueOnboarding(retry, { priority: RECOVERED_PRIORITY });
  return { requeued: retry.length, failed: failed.length };
}

export async function startWorker(opts: WorkerOptions): Promise<WorkerHandle> {
  const log = logger().child({ component: "worker" });
  const queue = await createQueue(opts.databaseUrl);
  const id = workerId();
  const livePools = new Set<string>();
  const deadPools = new Set<string>();
  let runner: Runner | undefined;
  let stopping = false;
  const stopSignal = new AbortController();
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (resolveReady = r));

  const tasks: Record<string, Task> = {
    [ONBOARD_TASK]: async (payload) => {
      const { connectionId } = Payload.parse(payload);
      const r = await runAttemptDetailed(opts.deps, connectionId);
      // handed back (shutdown): the next worker takes it, first in line
      if (r.handedBack) await queue.enqueueOnboarding([connectionId], { priority: RECOVERED_PRIORITY });
    },
    [REAP_TASK]: async () => {
      const r = await reapStuck(opts.db, queue, opts.stuckAfterMs);
      if (r.requeued || r.failed) log.info(r, "re-queued stuck onboarding attempts");
      // consent links live 10 minutes; keep a day of them for support, then let them go
      await deleteStaleConsentRequests(opts.db, new Date(Date.now() - 24 * 3_600_000));
    },
  };

  /** hands a connection to the durable queue (first in line); keeps trying while this process lives */
  const requeue = async (connectionId: string) => {
    for (let i = 1; ; i++) {
      try {
        await queue.enqueueOnboarding([connectionId], { priority: RECOVERED_PRIORITY });
        return;
      } catch (e) {
        // the queue is closed (stopping) or the database stays away: the lease (released, or
        // expiring with this process) leaves it to the reapers
        if (stopping) return;
        log.warn({ reason: describeDbFailure(e) }, "could not hand an attempt to the queue; retrying");
        await sleep(backoffMs(i, { baseMs: 1_000, capMs: 30_000 }), stopSignal.signal);
      }
    }
  };
  const inline: InlineRunner = {
    owner: id,
    leaseMs: LEASE_MS,
    available: () => !stopping && runner !== undefined && !isDraining() && heldCount() < opts.concurrency,
    run: async (connectionId, started) => {
      try {
        const r = await runAttemptDetailed(opts.deps, connectionId, { started });
        if (r.handedBack) {
          // handed back (shutdown; or it never started here): free the admission's lease, then the queue
          await releaseLease(opts.db, connectionId, id).catch(() => false);
          await requeue(connectionId);
        }
        return r.row;
      } catch (e) {
        // the database stayed away longer than an attempt waits: the queue retries it
        log.warn({ reason: describeDbFailure(e) }, "an in-process attempt stopped; handing it to the queue");
        await releaseLease(opts.db, connectionId, id).catch(() => false);
        await requeue(connectionId);
        return null;
      }
    },
  };

  /** heartbeat + the fast reaper + the planner's statistics, every HEARTBEAT_MS; a failed step waits for the next tick */
  const statistics = createStatisticsKeeper(opts.db);
  let ticking = false;
  const tick = async () => {
    if (ticking || stopping) return;
    ticking = true;
    let reached = false;
    try {
      await beatWorker(opts.db, id, [...livePools]);
      reached = true;
      const dead = await findDeadWorkers(opts.db, LEASE_MS);
      const unlock = [...dead.poolIds, ...deadPools];
      if (unlock.length) {
        await queue.forceUnlockWorkers(unlock);
        for (const p of unlock) deadPools.delete(p);
      }
      // a process that died before its first pool started (or between pools) left a row with none: forget it too
      if (dead.ids.length) {
        await forgetWorkers(opts.db, dead.ids, LEASE_MS);
        log.info({ workers: dead.ids.length, pools: unlock.length }, "forgot stopped workers and released their queue locks");
      }
      const r = await reapExpired(opts.db, queue);
      if (r.requeued || r.failed) log.info(r, "took over the attempts of stopped workers");
    } catch (e) {
      log.warn({ reason: describeDbFailure(e) }, "worker heartbeat failed; retrying");
    }
    try {
      // (not while the database stays away: the heartbeat's warning says so already)
      const rows = reached ? await statistics.tick() : null;
      if (rows !== null) log.info({ rows }, "refreshed the database's statistics of the connections table");
    } catch (e) {
      log.warn({ reason: describeDbFailure(e) }, "could not refresh the database's statistics of the connections table; retrying later");
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(() => void tick(), HEARTBEAT_MS);

  // graphile-worker 0.17 rejects a background promise when it cannot hand prefetched jobs back to
  // a database that went away (localQueue returnJobs): that must not end the process — the pool
  // is replaced and its locks released. Anything else keeps Node's default: print and exit 1.
  const onUnhandled = (reason: unknown) => {
    const stack = reason instanceof Error ? `${reason.stack ?? ""}` : "";
    if (stack.includes("graphile-worker")) {
      log.warn({ reason: describeDbFailure(reason) }, "the job queue lost its database; a new pool takes over");
      return;
    }
    if (process.listenerCount("unhandledRejection") === 1) {
      console.error(reason);
      process.exit(1);
    }
  };
  process.on("unhandledRejection", onUnhandled);

  const supervise = async () => {
    let failures = 0;
    while (!stopping) {
      setWorkerState({ status: failures ? "retrying" : "starting" });
      let poolId: string | undefined;
      try {
        const events: WorkerEvents = new EventEmitter();
        events.on("pool:create", ({ workerPool }) => {
          poolId = workerPool.id;
          livePools.add(workerPool.id);
        });
        // graphile-worker shuts a pool down when it cannot complete jobs (the database went away);
        // that shutdown can wait a long time on the database: do not wait for it, start a new pool
        let died: (reason: Error) => void = () => undefined;
        const dead = new Promise<never>((_, reject) => (died = reject));
        dead.catch(() => undefined);
        events.on("pool:fatalError", ({ error }) => died(error instanceof Error ? error : new Error(String(error))));
        events.on("pool:gracefulShutdown", ({ message }) => {
          if (!stopping) died(new Error(message || "the job pool shut down"));
        });
        const r = await run({
          connectionString: opts.databaseUrl,
          concurrency: opts.concurrency,
          // a running job holds no connection: a few serve LISTEN, the batched fetch and completions (server/db/client.ts)
          maxPoolSize: workerPoolSize(opts.concurrency),
          // fetch and complete jobs in batches: far fewer queue round trips under a 10,000-intent burst
          preset: { worker: { localQueue: { size: Math.max(2, opts.concurrency) }, completeJobBatchDelay: 5 } },
          noHandleSignals: true,
          pollInterval: 2_000,
          taskList: tasks,
          crontab: `* * * * * ${REAP_TASK} ?fill=2m&max=1`,
          events,
          logger: new Logger((scope) => (level, message) => {
            // graphile-worker's "maxPoolSize smaller than concurrency" advice assumes tasks that use its client; ours do not
            if (level === "warning" && message.startsWith("WARNING: having maxPoolSize")) return;
            if (level === "error" || level === "warning") log.warn({ scope: scope.label, taskIdentifier: scope.taskIdentifier }, message.slice(0, 300));
          }),
        });
        runner = r;
        if (stopping) break;
        failures = 0;
        setWorkerState({ status: "running", failures: 0, lastError: undefined, nextTryAt: undefined });
        setInlineRunner(inline);
        resolveReady();
        void tick();
        // one reap at start: a process that was killed a moment ago left PENDING rows behind
        void reapStuck(opts.db, queue, opts.stuckAfterMs).catch(() => undefined);
        await Promise.race([r.promise, dead]);
        if (stopping) break;
        throw new Error("the job runner stopped");
      } catch (e) {
        if (stopping) break;
        failures++;
        if (poolId) {
          livePools.delete(poolId);
          deadPools.add(poolId); // its locked jobs are released by the next tick that reaches the database
        }
        runner = undefined;
        const wait = backoffMs(failures, { baseMs: 1_000, capMs: 30_000 });
        const reason = describeDbFailure(e);
        setWorkerState({ status: "retrying", failures, lastError: reason, nextTryAt: Date.now() + wait });
        log.warn({ failures, reason, retryInMs: wait }, "the onboarding worker is not running; retrying");
        await sleep(wait, stopSignal.signal);
      }
    }
  };
  const supervised = supervise();

  return {
    queue,
    inline,
    get runner() {
      return runner;
    },
    ready,
    stop: async ({ graceMs = 6_000 } = {}) => {
      if (stopping) return;
      stopping = true;
      if (inlineRunner() === inline) setInlineRunner(undefined);
      setWorkerState({ status: "stopping" });
      stopSignal.abort();
      clearInterval(timer);
      setTimeout(() => process.off("unhandledRejection", onUnhandled), 12_000).unref();
      const r = runner;
      // no new jobs; running attempts get graceMs to finish, then hand their connection back
      const stopped = r ? r.stop().catch(() => undefined) : Promise.resolve();
      const handBack = setTimeout(() => drain(), graceMs);
      await Promise.race([stopped, sleep(graceMs + 3_000)]);
      clearTimeout(handBack);
      drain();
      await Promise.race([supervised, sleep(500)]);
      await removeWorker(opts.db, id).catch(() => undefined);
      await queue.close();
      setWorkerState({ status: "off" });
    },
  };
}
