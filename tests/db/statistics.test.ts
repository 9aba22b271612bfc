/**
 * The planner's statistics of `connections` (server/db/statistics.ts), on a scratch database whose
 * table autovacuum leaves alone (as on a server with `autovacuum = off`, or in the minute before
 * autovacuum looks): the keeper analyses it once it matters, the worker's heartbeat runs the
 * keeper, and afterwards an admission finds an intent's row by the natural key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/client";
import { createStatisticsKeeper, readConnectionStats, statisticsDue } from "../../server/db/statistics";
import { createMigratedScratch } from "../helpers/db";
import { startScriptedWorker } from "../helpers/scripted-adapter";

let scratch: Awaited<ReturnType<typeof createMigratedScratch>>;
let db: Db;
let tenantId: string;

beforeAll(async () => {
  scratch = await createMigratedScratch(4);
  db = scratch.db;
  await db.$executeRawUnsafe("ALTER TABLE connections SET (autovacuum_enabled = false)");
  tenantId = (await db.tenant.create({ data: { slug: "stats", name: "Stats" } })).id;
});
afterAll(async () => {
  await scratch?.drop();
});

let made = 0;
/** `n` connections of one namespace, as a burst of admissions leaves them */
async function addConnections(n: number): Promise<void> {
  await db.$executeRaw`
    INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason,
      scopes_mode, credential_locator, risk_level, evidence, owner, updated_at)
    SELECT gen_random_uuid(), ${tenantId}::uuid, 'prod', 'github', ARRAY['acme/repo-' || g], 'acme/repo-' || g, 'PENDING',
      'Queued for onboarding', 'safe', 'env:X', 'low', '{}'::jsonb, '{"user":"a@example.com"}'::jsonb, now()
    FROM generate_series(${made + 1}::int, ${made + n}::int) g`;
  made += n;
}

/** the statistics collector's count, once it has caught up with the inserts (it flushes within a second or so) */
async function statsWhenCounted(rows: number) {
  for (let i = 0; i < 100; i++) {
    const s = await readConnectionStats(db);
    if (s && s.live >= rows) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the statistics collector never counted ${rows} rows`);
}

/** The indexes the planner picks to find existing rows by natural key for a batch (the admission's lookup), as a prepared statement's generic plan. */
async function lookupIndex(): Promise<string[]> {
  return db.$transaction(async (tx) => {
    await tx.$executeRawUnsafe("SET LOCAL plan_cache_mode = force_generic_plan");
    await tx.$executeRawUnsafe(`PREPARE stats_lookup(jsonb, uuid) AS
      SELECT c.id FROM connections c JOIN jsonb_to_recordset($1) AS i(namespace text, source_type text, resource_key text)
        ON c.tenant_id = $2 AND c.namespace = i.namespace AND c.source_type = i.source_type AND c.resource_key = i.resource_key`);
    const rows = await tx.$queryRawUnsafe<{ "QUERY PLAN": unknown }[]>(`EXPLAIN (FORMAT JSON) EXECUTE stats_lookup('[]', '${tenantId}')`);
    await tx.$executeRawUnsafe("DEALLOCATE stats_lookup");
    const names: string[] = [];
    const walk = (n: Record<string, unknown>) => {
      if (n["Relation Name"] === "connections" && typeof n["Index Name"] === "string") names.push(n["Index Name"]);
      for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
    };
    walk((rows[0]!["QUERY PLAN"] as { Plan: Record<string, unknown> }[])[0]!.Plan);
    return names;
  });
}

describe("when the planner's statistics are due", () => {
  it("below the minimum never; never analysed at or above it; analysed, once the table has more than doubled", () => {
    expect(statisticsDue({ reltuples: -1, live: 999, analyzed: false })).toBe(false);
    expect(statisticsDue({ reltuples: -1, live: 1_000, analyzed: false })).toBe(true);
    // analysed while empty (a fresh install's first look): due once there are rows
    expect(statisticsDue({ reltuples: 0, live: 5_000, analyzed: true })).toBe(true);
    // vacuumed, never analysed (reltuples set, no column statistics)
    expect(statisticsDue({ reltuples: 4_000, live: 5_000, analyzed: false })).toBe(true);
    expect(statisticsDue({ reltuples: 4_000, live: 8_000, analyzed: true })).toBe(false);
    expect(statisticsDue({ reltuples: 4_000, live: 8_001, analyzed: true })).toBe(true);
    // rows deleted since: nothing the plans fear
    expect(statisticsDue({ reltuples: 50_000, live: 10_000, analyzed: true })).toBe(false);
  });
});

describe("the statistics keeper (autovacuum away)", () => {
  it("analyses a table that was never analysed, then not again until it has more than doubled", async () => {
    await addConnections(3_000);
    const before = await statsWhenCounted(3_000);
    expect(before.analyzed).toBe(false);
    expect(before.reltuples).toBeLessThan(0);

    let clock = 0;
    const keeper = createStatisticsKeeper(db, { now: () => clock, minIntervalMs: 10_000 });
    expect(await keeper.tick()).toBe(3_000);
    const after = await readConnectionStats(db);
    expect(after).toMatchObject({ analyzed: true });
    expect(after!.reltuples).toBeGreaterThan(2_500);
    // the admission's lookup now reads the rows it wants (by the natural key, or the table once
    // for a hash join), never a list index's whole namespace per intent
    const used = await lookupIndex();
    expect(used.filter((name) => name !== "connections_natural_key")).toEqual([]);

    // not due: nothing, however often it is asked
    clock += 60_000;
    expect(await keeper.tick()).toBeNull();
    // due again (more than doubled), but within the interval of the last run: nothing yet
    await addConnections(4_000);
    await statsWhenCounted(7_000);
    const early = createStatisticsKeeper(db, { now: () => clock, minIntervalMs: 10_000 });
    expect(await early.tick()).toBe(7_000);
    clock += 1_000;
    await addConnections(8_000);
    await statsWhenCounted(15_000);
    expect(await early.tick()).toBeNull();
    clock += 10_000;
    expect(await early.tick()).toBe(15_000);
    expect((await readConnectionStats(db))!.reltuples).toBeGreaterThan(12_000);
  });

  it("is left to one process at a time", async () => {
    await addConnections(16_000);
    await statsWhenCounted(31_000);
    // another process holds the keeper's lock (it is analysing): this one does nothing
    const lockHeld = db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(${0x61616d5f73746174n})::text`;
      const keeper = createStatisticsKeeper(db, { minIntervalMs: 0 });
      return keeper.tick();
    });
    expect(await lockHeld).toBeNull();
    expect((await readConnectionStats(db))!.reltuples).toBeLessThan(20_000);
  });

  it("runs with the worker's heartbeat", async () => {
    const s = await readConnectionStats(db);
    // the test before left the table due (doubled since its last analysis)
    expect(statisticsDue(s!)).toBe(true);
    const worker = await startScriptedWorker(db, scratch.url);
    try {
      await worker.ready;
      let analysed = false;
      for (let i = 0; i < 150 && !analysed; i++) {
        analysed = (await readConnectionStats(db))!.reltuples > 25_000;
        if (!analysed) await new Promise((r) => setTimeout(r, 100));
      }
      expect(analysed).toBe(true);
    } finally {
      await worker.stop({ graceMs: 500 });
    }
  });
});
