/**
 * Worker liveness (issue 11, item 2): every worker process writes its row in worker_heartbeats
 * every HEARTBEAT_MS, with the ids of its graphile-worker pools. A row older than one lease is a
 * dead process: its pools' job locks are released and its attempt leases taken over within
 * seconds, not after a no-progress timer. A live process's attempts are never taken over.
 */
import type { Db } from "../db/client";

export async function beatWorker(db: Db, id: string, poolIds: readonly string[]): Promise<void> {
  await db.$executeRaw`
    INSERT INTO worker_heartbeats (id, pool_ids, started_at, seen_at) VALUES (${id}, ${[...poolIds]}::text[], now(), now())
    ON CONFLICT (id) DO UPDATE SET pool_ids = EXCLUDED.pool_ids, seen_at = now()`;
}

export async function removeWorker(db: Db, id: string): Promise<void> {
  await db.$executeRaw`DELETE FROM worker_heartbeats WHERE id = ${id}`;
}

/** Workers not seen within `staleMs`, with their graphile-worker pool ids (release their locks, then forgetWorkers). */
export async function findDeadWorkers(db: Db, staleMs: number): Promise<{ ids: string[]; poolIds: string[] }> {
  const rows = await db.$queryRaw<{ id: string; pool_ids: string[] }[]>`
    SELECT id, pool_ids FROM worker_heartbeats WHERE seen_at < now() - ${staleMs} * interval '1 millisecond' ORDER BY seen_at LIMIT 100`;
  return { ids: rows.map((r) => r.id), poolIds: rows.flatMap((r) => r.pool_ids) };
}

/** Deletes dead workers' rows (only if they are still stale: a frozen process that came back keeps its row). */
export async function forgetWorkers(db: Db, ids: readonly string[], staleMs: number): Promise<void> {
  if (ids.length) await db.$executeRaw`DELETE FROM worker_heartbeats WHERE id = ANY(${[...ids]}::text[]) AND seen_at < now() - ${staleMs} * interval '1 millisecond'`;
}

/** The queue's job key of a connection's onboarding (one job per connection, server/jobs/queue.ts). */
const ONBOARD_KEY_PREFIX = "onboard:";
export const onboardJobKey = (connectionId: string) => `${ONBOARD_KEY_PREFIX}${connectionId}`;

/**
 * PENDING connections the queue has lost (the slow reaper's work, server/jobs/worker.ts): no
 * attempt holds them, none made progress for `olderThanMs`, and no job of theirs waits in the
 * queue or runs (graphile-worker's `jobs` view: a job with tries left, locked or not). A
 * connection merely waiting its turn behind a backlog is not lost — re-adding its job would move
 * it to the back of the queue (graphile-worker resets a replaced job's run_at and priority) and,
 * with a limit, hide the lost ones behind it. Oldest first, at most `limit`.
 */
export async function findLostPending(db: Db, olderThanMs: number, limit = 500): Promise<string[]> {
  const cutoff = new Date(Date.now() - olderThanMs);
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT c.id FROM connections c
    WHERE c.status = 'PENDING' AND c.lease_owner IS NULL
      AND (c.last_attempt_at < ${cutoff} OR (c.last_attempt_at IS NULL AND c.last_received_at < ${cutoff}))
      AND NOT EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = ${ONBOARD_KEY_PREFIX} || c.id::text AND j.attempts < j.max_attempts)
    ORDER BY coalesce(c.last_attempt_at, c.last_received_at), c.id
    LIMIT ${limit}`;
  return rows.map((r) => r.id);
}
