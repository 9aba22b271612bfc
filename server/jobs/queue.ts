/**
 * The durable queue (graphile-worker on the same PostgreSQL): onboarding attempts are jobs, so a
 * crash mid-onboarding is retried instead of leaving a connection in PENDING. One job key per
 * connection deduplicates concurrent posts (a second job for a connection whose attempt is
 * running is harmless: the attempt's lease lets only one run, server/onboarding/lease.ts).
 *
 * createQueue never rejects and keeps no failed start (issue 11, item 4): the queue's utilities
 * are made on first use, and made again after a failure; each call retries transient database
 * errors with backoff and jitter for a few seconds before it gives up.
 */
import { makeWorkerUtils, type WorkerUtils } from "graphile-worker";
import { QUEUE_POOL_SIZE } from "../db/client";
import { backoffMs, isTransientError, sleep } from "../onboarding/transient";
import { onboardJobKey } from "./worker-repository";

export const ONBOARD_TASK = "onboard";
export const REAP_TASK = "reap_stuck";
/** graphile-worker's own retries of one job (an attempt retries the source itself, server/onboarding/pipeline.ts) */
export const MAX_JOB_ATTEMPTS = 5;

export type EnqueueOptions = { priority?: number };

export type Queue = {
  enqueueOnboarding(connectionIds: readonly string[], opts?: EnqueueOptions): Promise<void>;
  /** frees the jobs locked by graphile-worker pools that are gone (a killed process, a pool that stopped) */
  forceUnlockWorkers(poolIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
};

const CALL_TRIES = 6; // ~0.5 + 1 + 2 + 4 + 4 s with jitter: rides over a database restart

export async function createQueue(databaseUrl: string): Promise<Queue> {
  let utils: Promise<WorkerUtils> | undefined;
  let closed = false;
  const get = (): Promise<WorkerUtils> => {
    utils ??= (async () => {
      const u = await makeWorkerUtils({ connectionString: databaseUrl, noPreparedStatements: false, maxPoolSize: QUEUE_POOL_SIZE });
      try {
        await u.migrate();
        return u;
      } catch (e) {
        await Promise.resolve(u.release()).catch(() => undefined);
        throw e;
      }
    })();
    const mine = utils;
    mine.catch(() => {
      if (utils === mine) utils = undefined; // never keep a failed start: the next call tries again
    });
    return mine;
  };
  const call = async <T>(fn: (u: WorkerUtils) => Promise<T>): Promise<T> => {
    for (let i = 1; ; i++) {
      if (closed) throw new Error("the queue is closed");
      try {
        return await fn(await get());
      } catch (e) {
        if (i >= CALL_TRIES || !isTransientError(e)) throw e;
        await sleep(backoffMs(i, { capMs: 4_000 }));
      }
    }
  };
  return {
    async enqueueOnboarding(ids, opts = {}) {
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        await call((u) =>
          u.addJobs(
            chunk.map((connectionId) => ({
              identifier: ONBOARD_TASK,
              payload: { connectionId },
              jobKey: onboardJobKey(connectionId),
              maxAttempts: MAX_JOB_ATTEMPTS,
              ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
            })),
          ),
        );
      }
    },
    async forceUnlockWorkers(poolIds) {
      if (poolIds.length) await call((u) => u.forceUnlockWorkers([...poolIds]));
    },
    close: async () => {
      closed = true;
      const u = utils;
      utils = undefined;
      await u?.then((x) => x.release()).catch(() => undefined);
    },
  };
}
