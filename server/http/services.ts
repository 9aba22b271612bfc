/**
 * Process-wide services for route handlers: the database, the queue and the final-state waiter,
 * created once. The worker itself is started by instrumentation.ts (server/jobs/embedded.ts).
 */
import { getDb, type Db } from "../db/client";
import { getEnv, requireDatabaseUrl } from "../env";
import { FinalWaiter } from "../jobs/final-waiter";
import { inlineRunner } from "../jobs/inline";
import { createQueue, type Queue } from "../jobs/queue";
import type { SubmitDeps } from "../onboarding/submit-intent";

type Services = { db: Db; queue: Promise<Queue>; waiter: FinalWaiter };
const g = globalThis as unknown as { __aamServices?: Services };

export function services(): Services {
  g.__aamServices ??= { db: getDb(), queue: createQueue(requireDatabaseUrl()), waiter: new FinalWaiter(requireDatabaseUrl()) };
  return g.__aamServices;
}

export function submitDeps(): SubmitDeps {
  const s = services();
  return {
    db: s.db,
    enqueue: async (ids) => (await s.queue).enqueueOnboarding(ids),
    waitForFinal: (id, ms, after) => s.waiter.wait(id, ms, after),
    // this process's worker runs a single intent's attempt at once when it has a free slot
    inline: () => {
      const r = inlineRunner();
      return r?.available() ? r : undefined;
    },
  };
}

export function apiSettings() {
  const env = getEnv();
  return { budgetMs: env.ONBOARD_TIME_BUDGET_MS, ratePerMinute: env.API_RATE_PER_MINUTE, sloTarget: env.SLO_TARGET };
}
