/**
 * The funnel, exactly (DESIGN.md "Statuses and the funnel"): one grouped count over the registry
 * per (tenant, namespace) — never counters — so re-posts cannot inflate it and it cannot drift.
 * The REST API, tRPC and `npm run exec-summary` all call getFunnel().
 */
import type { Db } from "../db/client";
import type { FunnelMetrics, Status } from "./schemas";

export type FunnelOptions = { target?: number; defaultTarget?: number; days?: number; now?: Date };

type CountRow = { status: Status; reachable: boolean; n: bigint };
type CohortRow = { day: string; received: bigint; eligible: bigint; active_day_one: bigint };

const ratio = (num: number, den: number) => (den === 0 ? 0 : Math.round((num / den) * 10_000) / 10_000);

export async function loadTarget(db: Db, tenantId: string, namespace: string, fallback: number): Promise<number> {
  const s = await db.setting.findUnique({ where: { tenantId_namespace: { tenantId, namespace } }, select: { sloTarget: true } });
  return s?.sloTarget ?? fallback;
}

export async function getFunnel(db: Db, tenantId: string, namespace: string, opts: FunnelOptions = {}): Promise<FunnelMetrics> {
  const days = opts.days ?? 30;
  const now = opts.now ?? new Date();
  const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
  const [counts, cohorts, target] = await Promise.all([
    db.$queryRaw<CountRow[]>`
      SELECT status::text AS status, reachable, count(*)::bigint AS n
      FROM connections WHERE tenant_id = ${tenantId}::uuid AND namespace = ${namespace}
      GROUP BY status, reachable`,
    db.$queryRaw<CohortRow[]>`
      SELECT to_char(date_trunc('day', first_received_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
             count(*)::bigint AS received,
             count(*) FILTER (WHERE status NOT IN ('UNSUPPORTED', 'NOT_SANCTIONED'))::bigint AS eligible,
             count(*) FILTER (WHERE status NOT IN ('UNSUPPORTED', 'NOT_SANCTIONED')
                                AND activated_at IS NOT NULL
                                AND activated_at <= first_received_at + interval '24 hours')::bigint AS active_day_one
      FROM connections
      WHERE tenant_id = ${tenantId}::uuid AND namespace = ${namespace} AND first_received_at >= ${since}
      GROUP BY 1 ORDER BY 1`,
    opts.target !== undefined ? Promise.resolve(opts.target) : loadTarget(db, tenantId, namespace, opts.defaultTarget ?? 0.9),
  ]);

  const by = (s: Status) => counts.filter((c) => c.status === s).reduce((a, c) => a + Number(c.n), 0);
  const received = counts.reduce((a, c) => a + Number(c.n), 0);
  const unsupported = by("UNSUPPORTED");
  const notSanctioned = by("NOT_SANCTIONED");
  const eligible = received - unsupported - notSanctioned;
  const active = by("ACTIVE");
  const coverage = ratio(active, eligible);
  return {
    namespace,
    received,
    eligible,
    reachable: counts.filter((c) => c.reachable).reduce((a, c) => a + Number(c.n), 0),
    active,
    awaiting_credentials: by("AWAITING_CREDENTIALS"),
    network_blocked: by("NETWORK_BLOCKED"),
    unsupported_type: unsupported,
    healing: by("HEALING"),
    error: by("ERROR"),
    not_sanctioned: notSanctioned,
    pending: by("PENDING"),
    coverage,
    slo_met: coverage >= target,
    target,
    day_one: cohorts.map((c) => ({
      day: c.day,
      received: Number(c.received),
      eligible: Number(c.eligible),
      active_day_one: Number(c.active_day_one),
      coverage: ratio(Number(c.active_day_one), Number(c.eligible)),
    })),
  };
}

/** The funnel in plain English (the seed's scripts/exec_summary). */
export function describeFunnel(f: FunnelMetrics): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `Onboarding funnel for namespace "${f.namespace}"`,
    ``,
    `AOD sent ${f.received} distinct data source(s); ${f.eligible} are eligible (${f.unsupported_type} of an unsupported type, ${f.not_sanctioned ?? 0} not sanctioned).`,
    `${f.reachable} were reachable and ${f.active} are ACTIVE in Safe Mode, so day-one coverage is ${pct(f.coverage)} against a target of ${pct(f.target)}:`,
    f.slo_met ? `the SLO is MET.` : `the SLO is MISSED${f.eligible === 0 ? " (nothing eligible yet)" : ` by ${(f.target * 100 - f.coverage * 100).toFixed(1)} points`}.`,
    ``,
    `Waiting on people or networks:`,
    `  ${f.awaiting_credentials} awaiting credentials or admin consent`,
    `  ${f.network_blocked} blocked by the network`,
    `  ${f.healing} healing (reachable, first sync to retry)`,
    `  ${f.error} in error`,
    `  ${f.pending ?? 0} still being onboarded`,
  ];
  if (f.day_one?.length) {
    lines.push(``, `Day-one coverage by day first received (UTC):`);
    for (const c of f.day_one) lines.push(`  ${c.day}: ${c.active_day_one} of ${c.eligible} eligible active within 24 h (${pct(c.coverage)})`);
  }
  return lines.join("\n");
}
