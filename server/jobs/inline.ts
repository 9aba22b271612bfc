/**
 * The in-process fast path of a single intent (issue 13, item 3): when this process runs the
 * onboarding worker and it has a free slot, POST /api/connections/onboard takes the attempt's
 * lease in the admission statement itself and runs the attempt here at once — no enqueue, no
 * queue pickup, no NOTIFY hop, no re-read of the row for the answer.
 *
 * Durability is the lease's (server/onboarding/lease.ts), not the queue's: the admission commits
 * the row PENDING with this process's lease, so
 *  - a crash (kill -9) at any point leaves an expiring lease of an owner whose heartbeat stops:
 *    the fast reaper of any worker re-queues it within seconds (server/jobs/worker.ts);
 *  - a job for the same connection (a re-post, the slow reaper) cannot start a second attempt:
 *    startAttempt refuses a live lease of another owner, and this process runs one attempt per
 *    connection (holdLocal);
 *  - an attempt that ends without a final state here (graceful shutdown hands it back, the
 *    database stayed away longer than the attempt waits) is handed to the durable queue.
 * Kept on globalThis: Next.js may load modules more than once.
 */
import type { AttemptRow, StartedAttempt } from "../onboarding/connection-repository";

export type InlineRunner = {
  /** the lease owner of this process's attempts (lease.ts workerId) */
  owner: string;
  leaseMs: number;
  /** a free slot now (the worker runs, is not stopping, and holds fewer attempts than its concurrency) */
  available(): boolean;
  /**
   * Runs the attempt the admission started for `owner` (its lease and fencing number). Resolves
   * with the connection as the attempt left it (null when it ended elsewhere or was handed to the
   * queue); never rejects.
   */
  run(connectionId: string, started?: StartedAttempt): Promise<AttemptRow | null>;
};

const g = globalThis as unknown as { __aamInline?: InlineRunner };

export function setInlineRunner(r: InlineRunner | undefined): void {
  g.__aamInline = r;
}

export function inlineRunner(): InlineRunner | undefined {
  return g.__aamInline;
}
