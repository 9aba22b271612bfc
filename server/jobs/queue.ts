/**
 * The durable queue (graphile-worker on the same PostgreSQL): onboarding attempts are jobs, so a
 * crash mid-onboarding is retried instead of leaving a connection in PENDING. One job key per
 * connection deduplicates concurrent posts.
 */
import { makeWorkerUtils, type WorkerUtils } from "graphile-worker";

export const ONBOARD_TASK = "onboard";
export const REAP_TASK = "reap_stuck";
export const MAX_JOB_ATTEMPTS = 5;

export type Queue = {
  enqueueOnboarding(connectionIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
};

export async function createQueue(databaseUrl: string): Promise<Queue> {
  const utils: WorkerUtils = await makeWorkerUtils({ connectionString: databaseUrl, noPreparedStatements: false });
  await utils.migrate();
  return {
    async enqueueOnboarding(ids) {
      for (let i = 0; i < ids.length; i += 500) {
        await utils.addJobs(
          ids.slice(i, i + 500).map((connectionId) => ({
            identifier: ONBOARD_TASK,
            payload: { connectionId },
            jobKey: `onboard:${connectionId}`,
            maxAttempts: MAX_JOB_ATTEMPTS,
          })),
        );
      }
    },
    close: async () => {
      await utils.release();
    },
  };
}
