/**
 * The funnel, exactly (DESIGN.md "Statuses and the funnel"): grouped counts of the registry per
 * (tenant, namespace), kept by the database's own triggers in the same transaction as every write
 * to `connections` — not application counters — so re-posts cannot inflate it and it cannot drift.
 * The REST API, tRPC and `npm run exec-summary` all call getFunnel().
 */
import type { Db } from "../db/client";
import type { FunnelMetrics, Status } from "./schemas";

export type FunnelOptions = { target?: number; defaultTarget?: number; days?: number; now?: Date };

type GroupRow = { first_day: number; status: Status; reachable: boolean; day_one: boolean; n: bigint };

const ratio = (num: number, den: number) => (den === 0 ? 0 : Math.round((num / den) * 10_000) / 10_000);
const DAY_MS = 86_400_000;
const INELIGIBLE: ReadonlySet<Status> = new Set(["UNSUPPORTED", "NOT_SANCTIONED"]);

export async function loadTarget(db: Db, tenantId: string, namespace: string, fallback: number): Promise<number> {
  const s = await db.setting.findUnique({ where: { tenantId_namespace: { tenantId, namespace } }, select: { sloTarget: true } });
  return s?.sloTarget ?? fallback;
}

export async function getFunnel(db: Db, tenantId: string, namespace: string, opts: FunnelOptions = {}): Promise<FunnelMetrics> {
  const days = opts.days ?? 30;
  const today = Math.floor((opts.now ?? new Date()).getTime() / DAY_MS);
  // The counts and the day-one cohorts come from the same grouped rows: connection_counts, which
  // triggers keep in the writing transaction (migration 20261201090000), so this reads a few
  // hundred rows whatever the number of connections, and is as exact as a recount.
  const [groups, target] = await Promise.all([
    db.$queryRaw<GroupRow[]>`
      SELECT first_day, status::text AS status, reachable, day_one, sum(n)::bigint AS n
      FROM connection_counts WHERE tenant_id = ${tenantId}::uuid AND namespace = ${namespace}
      GROUP BY first_day, status, reachable, day_one HAVING sum(n) <> 0`,
    opts.target !== undefined ? Promise.resolve(opts.target) : loadTarget(db, tenantId, namespace, opts.defaultTarget ?? 0.9),
  ]);

  const byStatus = new Map<Status, number>();
  const cohorts = new Map<number, { received: number; eligible: number; active_day_one: number }>();
  let received = 0;
  let reachable = 0;
  for (const g of groups) {
    const n = Number(g.n);
    received += n;
    if (g.reachable) reachable += n;
    byStatus.set(g.status, (byStatus.get(g.status) ?? 0) + n);
    if (g.first_day > today - days && g.first_day <= today) {
      const c = cohorts.get(g.first_day) ?? { received: 0, eligible: 0, active_day_one: 0 };
      c.received += n;
      if (!INELIGIBLE.has(g.status)) {
        c.eligible += n;
        if (g.day_one) c.active_day_one += n;
      }
      cohorts.set(g.first_day, c);
    }
  }
  const by = (s: Status) => byStatus.get(s) ?? 0;
  const unsupported = by("UNSUPPORTED");
  const notSanctioned = by("NOT_SANCTIONED");
  const eligible = received - unsupported - notSanctioned;
  const active = by("ACTIVE");
  const coverage = ratio(active, eligible);
  return {
    namespace,
    received,
    eligible,
    reachable,
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
    day_one: [...cohorts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([day, c]) => ({ day: new Date(day * DAY_MS).toISOString().slice(0, 10), ...c, coverage: ratio(c.active_day_one, c.eligible) })),
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
