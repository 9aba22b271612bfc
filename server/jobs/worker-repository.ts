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
    SELECT id, pool_ids FROM worker_heartbeats WHERE seen_at < now() - ${staleMs} * interval '1 millisecond' LIMIT 100`;
  return { ids: rows.map((r) => r.id), poolIds: rows.flatMap((r) => r.pool_ids) };
}

/** Deletes dead workers' rows (only if they are still stale: a frozen process that came back keeps its row). */
export async function forgetWorkers(db: Db, ids: readonly string[], staleMs: number): Promise<void> {
  if (ids.length) await db.$executeRaw`DELETE FROM worker_heartbeats WHERE id = ANY(${[...ids]}::text[]) AND seen_at < now() - ${staleMs} * interval '1 millisecond'`;
}
