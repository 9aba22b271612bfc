/**
 * The planner's statistics of the connection registry, kept fresh when PostgreSQL's autovacuum
 * does not: it may be switched off (some managed and CI servers run with `autovacuum = off`), and
 * where it runs it looks at a database once a minute, while AOD's first discovery can post tens
 * of thousands of intents within that minute.
 *
 * Why it matters: for a table it never analysed, the planner has no idea that one namespace holds
 * every row, estimates "one row" for any two equal columns, and may look an intent's row up by a
 * list index on (tenant, namespace, status, …) instead of the natural key — reading the whole
 * namespace once per intent. Measured on a never-analysed table of 28,000 connections: one
 * 1,000-intent admission took 20–24 s instead of ~0.1 s (EXPLAIN: connections_list_risk_level_idx
 * with the natural key's last column as a filter). One ANALYZE fixes the plan for good as the table
 * grows (the planner scales the row count by the table's size; the columns' shape stays right).
 */
import type { Db } from "./client";

/** Below this many rows any plan is fast enough. */
export const STATS_MIN_ROWS = 1_000;
/** The least time between two ANALYZEs started by one process. */
export const STATS_MIN_INTERVAL_MS = 10_000;
/** Any number, the same in every process: only one of them analyses at a time. */
const ANALYZE_LOCK = 0x61616d5f73746174n; // "aam_stat"

export type TableStats = {
  /** pg_class.reltuples: the row count the planner was last told (-1: never analysed nor vacuumed) */
  reltuples: number;
  /** pg_stat_user_tables.n_live_tup: the rows there are now, as the statistics collector counts them */
  live: number;
  /** analysed at least once, by autovacuum or by hand */
  analyzed: boolean;
};

/**
 * Whether the planner's picture is wrong enough to cost a bad plan: never analysed with at least
 * `minRows` rows, or the table has more than doubled since it was.
 */
export function statisticsDue(s: TableStats, minRows = STATS_MIN_ROWS): boolean {
  if (s.live < minRows) return false;
  if (!s.analyzed || s.reltuples < 0) return true;
  return s.live > 2 * Math.max(s.reltuples, 0);
}

export async function readConnectionStats(db: Db): Promise<TableStats | null> {
  const rows = await db.$queryRaw<{ reltuples: number; live: bigint; analyzed: boolean }[]>`
    SELECT c.reltuples::float8 AS reltuples, s.n_live_tup AS live,
      (s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL) AS analyzed
    FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE c.oid = to_regclass('connections')`;
  const r = rows[0];
  return r ? { reltuples: Number(r.reltuples), live: Number(r.live), analyzed: r.analyzed } : null;
}

/**
 * One process's keeper (the worker's heartbeat calls `tick`): analyses `connections` when its
 * statistics are due and no other process is analysing it, at most once per `minIntervalMs`.
 * Returns the row count it analysed, or null when it did nothing.
 */
export function createStatisticsKeeper(db: Db, opts: { minRows?: number; minIntervalMs?: number; now?: () => number } = {}) {
  const minIntervalMs = opts.minIntervalMs ?? STATS_MIN_INTERVAL_MS;
  const now = opts.now ?? Date.now;
  let last = -Infinity;
  return {
    async tick(): Promise<number | null> {
      if (now() - last < minIntervalMs) return null;
      const stats = await readConnectionStats(db);
      if (!stats || !statisticsDue(stats, opts.minRows)) return null;
      last = now();
      // ANALYZE may run inside a transaction; the advisory lock lets one process do it, and ends with it
      const analyzed = await db.$transaction(async (tx) => {
        const [lock] = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(${ANALYZE_LOCK}) AS ok`;
        if (!lock?.ok) return false;
        // behind a VACUUM FULL or an index build it waits a second at most, and tries again later
        await tx.$executeRawUnsafe("SET LOCAL lock_timeout = '1s'");
        await tx.$executeRawUnsafe("ANALYZE connections");
        return true;
      }, { timeout: 120_000 });
      return analyzed ? stats.live : null;
    },
  };
}
