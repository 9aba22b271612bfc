/** The health use-case: is the database reachable, and how fast. */
import type { Db } from "./db/client";

export type Health = { status: "ok" | "degraded"; database: { status: "up" | "down"; latency_ms: number | null; migrations: number | null } };

export async function checkHealth(db: Db): Promise<Health> {
  const t0 = performance.now();
  try {
    const rows = await db.$queryRaw<{ n: bigint }[]>`SELECT count(*)::bigint AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`;
    const latency = Math.round((performance.now() - t0) * 10) / 10;
    return { status: "ok", database: { status: "up", latency_ms: latency, migrations: Number(rows[0]?.n ?? 0) } };
  } catch {
    return { status: "degraded", database: { status: "down", latency_ms: null, migrations: null } };
  }
}
