/**
 * The slow reaper (server/jobs/worker.ts reapStuck) against the real PostgreSQL and graphile-worker:
 * it re-queues the PENDING connections the queue lost — and only those. A connection whose job
 * waits its turn behind a backlog is not lost: re-adding its job would send it to the back of the
 * queue (graphile-worker resets a replaced job's run_at and priority), and with the reaper's
 * limit the waiting ones hid the lost ones.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { createQueue, type Queue } from "../../server/jobs/queue";
import { reapStuck } from "../../server/jobs/worker";
import { createScratchDatabase } from "../helpers/db";
import { startScriptedWorker } from "../helpers/scripted-adapter";

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let queue: Queue;
let sql: pg.Pool;

beforeAll(async () => {
  scratch = await createScratchDatabase();
  await applyMigrations(scratch.url);
  db = createDb(scratch.url, 4);
  queue = await createQueue(scratch.url);
  await queue.forceUnlockWorkers(["none"]); // the queue's first call migrates graphile-worker's schema
  sql = new pg.Pool({ connectionString: scratch.url, max: 2 });
});
afterAll(async () => {
  await queue?.close();
  await sql?.end();
  await db?.$disconnect();
  await scratch?.drop();
});

/** `n` PENDING connections of a new tenant last received 10 minutes ago, no attempt on them: ids in order of age (oldest first). */
async function pending(n: number, label: string): Promise<string[]> {
  const t = await db.tenant.create({ data: { slug: `reap-${label}`, name: label } });
  const rows = await sql.query<{ id: string }>(
    `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, intent_hash, scopes_mode,
       credential_locator, risk_level, evidence, owner, last_received_at, updated_at)
     SELECT gen_random_uuid(), $1::uuid, 'autonomy', 'github', ARRAY['r' || g], 'r' || g, 'PENDING', 'Queued', 'h', 'safe_readonly',
       'env:X', 'low', '{}'::jsonb, '{}'::jsonb, now() - interval '10 minutes' + g * interval '1 ms', now()
     FROM generate_series(1, $2::int) g RETURNING id`,
    [t.id, n],
  );
  return rows.rows.map((r) => r.id);
}

const jobsOf = async (ids: readonly string[]) =>
  (
    await sql.query<{ key: string; run_at: Date; priority: number; revision: number }>(
      "SELECT key, run_at, priority, revision FROM graphile_worker.jobs WHERE key = ANY($1::text[]) ORDER BY key",
      [ids.map((id) => `onboard:${id}`)],
    )
  ).rows;

describe("the slow reaper", () => {
  it("leaves a backlog's waiting jobs where they are, and finds the lost connections behind more than one limit of them", async () => {
    const waiting = await pending(600, "backlog");
    await queue.enqueueOnboarding(waiting);
    await sql.query("UPDATE graphile_worker._private_jobs SET run_at = now() - interval '9 minutes'");
    const before = await jobsOf(waiting);
    expect(before).toHaveLength(600);
    const lost = await pending(3, "lost"); // newer than every waiting one: the old unordered LIMIT 500 read none of them

    const r = await reapStuck(db, queue, 60_000);
    expect(r).toEqual({ requeued: 3, failed: 0 });
    expect(await jobsOf(waiting)).toEqual(before); // same run_at, priority and revision: not replaced
    const requeued = await jobsOf(lost);
    expect(requeued.map((j) => j.key)).toEqual(lost.map((id) => `onboard:${id}`).sort());
    expect(requeued.every((j) => j.priority === -1)).toBe(true); // first in line: they have waited
    // once queued, they are not lost any more
    expect(await reapStuck(db, queue, 60_000)).toEqual({ requeued: 0, failed: 0 });
  });

  it("re-queues a connection whose job used its tries, and gives up on a run that used its attempts", async () => {
    const [spentJob, spentRun] = await pending(2, "spent");
    await queue.enqueueOnboarding([spentJob!, spentRun!]);
    await sql.query("UPDATE graphile_worker._private_jobs SET attempts = max_attempts WHERE key = ANY($1::text[])", [[`onboard:${spentJob}`, `onboard:${spentRun}`]]);
    await db.connection.update({ where: { id: spentRun! }, data: { runAttempts: 5 } });

    expect(await reapStuck(db, queue, 60_000)).toEqual({ requeued: 1, failed: 1 });
    const [job] = await jobsOf([spentJob!]);
    expect(job).toMatchObject({ priority: -1 });
    const row = await db.connection.findUniqueOrThrow({ where: { id: spentRun! } });
    expect(row.status).toBe("ERROR");
    expect(row.statusReason).toMatch(/did not complete after 5 attempts/);
  });

  it("leaves a connection an attempt holds, or one that made progress lately", async () => {
    const [held, recent] = await pending(2, "busy");
    await db.connection.update({ where: { id: held! }, data: { leaseOwner: "w-1", leaseExpiresAt: new Date(Date.now() + 60_000) } });
    await db.connection.update({ where: { id: recent! }, data: { lastAttemptAt: new Date() } });
    expect(await reapStuck(db, queue, 60_000)).toEqual({ requeued: 0, failed: 0 });
  });

  it("a worker forgets a dead process's heartbeat row even when it had no queue pool (it died before its first one started)", async () => {
    await sql.query("DELETE FROM graphile_worker._private_jobs"); // this worker has nothing to run
    await sql.query("INSERT INTO worker_heartbeats (id, pool_ids, started_at, seen_at) VALUES ('dead-before-pools', '{}', now() - interval '1 hour', now() - interval '1 hour')");
    const worker = await startScriptedWorker(db, scratch.url);
    try {
      await worker.ready;
      // the heartbeat's tick runs every 2 s: wait for the row to go (or give up after 15 s)
      let left = 1;
      for (let i = 0; i < 60 && left; i++) {
        await new Promise((r) => setTimeout(r, 250));
        left = (await sql.query("SELECT 1 FROM worker_heartbeats WHERE id = 'dead-before-pools'")).rowCount ?? 0;
      }
      expect(left).toBe(0);
    } finally {
      await worker.stop();
    }
  });
});
