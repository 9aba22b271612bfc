/**
 * The health use-case: is the database reachable, and how fast; is this process's onboarding
 * worker running. `degraded` always comes with a reason in words (issue 11, item 4).
 */
import type { Db } from "./db/client";
import { describeDbFailure, workerState, type WorkerStatus } from "./jobs/status";

export type Health = {
  status: "ok" | "degraded";
  /** why it is degraded, in words (absent when ok) */
  reason?: string;
  database: { status: "up" | "down"; latency_ms: number | null; migrations: number | null };
  worker?: { status: WorkerStatus };
};

const HEALTH_TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error("health query timed out")), ms)))]).finally(() => clearTimeout(t));
}

/** True when the database answers `SELECT 1` within `ms`. */
export async function pingDatabase(db: Db, ms = HEALTH_TIMEOUT_MS): Promise<boolean> {
  try {
    await withTimeout(db.$queryRaw`SELECT 1`, ms);
    return true;
  } catch {
    return false;
  }
}

export async function checkHealth(db: Db): Promise<Health> {
  const w = workerState();
  const worker = w.status === "off" ? undefined : { status: w.status };
  const t0 = performance.now();
  let database: Health["database"];
  let dbReason: string | undefined;
  try {
    const rows = await withTimeout(db.$queryRaw<{ n: bigint }[]>`SELECT count(*)::bigint AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`, HEALTH_TIMEOUT_MS);
    database = { status: "up", latency_ms: Math.round((performance.now() - t0) * 10) / 10, migrations: Number(rows[0]?.n ?? 0) };
  } catch (e) {
    database = { status: "down", latency_ms: null, migrations: null };
    dbReason = `${describeDbFailure(e)}; onboarding waits and resumes by itself when it is back`;
  }
  const reason =
    dbReason ??
    (w.status === "retrying"
      ? `the onboarding worker could not start or lost its queue (${w.lastError ?? "unknown error"}); it retries by itself${w.nextTryAt ? ` in ${Math.max(0, Math.ceil((w.nextTryAt - Date.now()) / 1000))} s` : ""}`
      : w.status === "starting"
        ? "the onboarding worker is starting"
        : w.status === "stopping"
          ? "the onboarding worker is shutting down"
          : undefined);
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1) + ".";
  return { status: reason ? "degraded" : "ok", ...(reason ? { reason: cap(reason) } : {}), database, ...(worker ? { worker } : {}) };
}
