/**
 * `npm run bench -- --million` (or `npm run bench:million`): one tenant grown to 10,000 →
 * 100,000 → 1,000,000 connections (bulk INSERT … SELECT generate_series), and at each size:
 *  - the funnel query (getFunnel, what the REST API, tRPC and exec-summary call): p50/p99, and
 *    exactness against a full recount computed independently from the raw columns
 *    (status, reachable, first_received_at, activated_at — not the trigger-kept day columns);
 *  - the connections-list page (listConnections, what the tRPC connections.list procedure and
 *    components/connections-table.tsx use) with every filter the page offers (none, status,
 *    several statuses, source type, risk, owner, free-text q — broad ones, a source type's name,
 *    text too short to search inside) × every sort (6 keys × asc/desc) × page 1, page 40 and
 *    the page after the middle of the namespace's order, 25 rows — as the page reads them:
 *    page 1 from the top, the others by cursor (keyset: a seek from where the page before ended;
 *    the cursors come from untimed reads): p50 over all combinations and the slowest ones;
 *  - admission of a 1,000-intent batch (submitBatch: validation, the idempotent upsert, the
 *    durable enqueue; what POST /api/connections/onboard/batch runs after parsing the body).
 * Prints figures, asserts nothing.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../server/db/client";
import { createQueue } from "../server/jobs/queue";
import { distinctSourceTypes, listConnections, listNamespaces, parseCursor, SORTABLE, type ListCursor, type ListQuery } from "../server/onboarding/connection-query";
import { getFunnel } from "../server/onboarding/funnel";
import type { FunnelMetrics, Status } from "../server/onboarding/schemas";
import { submitBatch } from "../server/onboarding/submit-intent";
import { conditions, f1, lpad, pad, q } from "./lib";

const SOURCE_TYPES = ["github", "slack", "salesforce", "jira", "zendesk", "postgres", "s3", "s3_compat", "snowflake", "bigquery", "hubspot", "notion", "okta", "datadog", "stripe", "filesource", "jdbc", "mongo", "openapi", "redshift"];
const STATUSES: Status[] = ["ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "HEALING", "NETWORK_BLOCKED", "AWAITING_CREDENTIALS", "UNSUPPORTED", "ERROR", "NOT_SANCTIONED", "PENDING"];

/**
 * Rows `from+1 … to` of the tenant: 20 source types, statuses (half ACTIVE), risks, 500 owners,
 * reasons, 90 days of receipts — each drawn from its own hash of the row number, so the columns
 * are independent (as the planner assumes; correlated synthetic columns make misleading plans).
 */
export async function grow(db: Db, tenantId: string, from: number, to: number): Promise<void> {
  const st = `ARRAY[${SOURCE_TYPES.map((s) => `'${s}'`).join(",")}]`;
  const ss = `ARRAY[${STATUSES.map((s) => `'${s}'`).join(",")}]`;
  for (let lo = from; lo < to; lo += 250_000) {
    const hi = Math.min(to, lo + 250_000);
    await db.$executeRawUnsafe(`
      INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, reachable, intent_id,
        scopes_mode, credential_locator, risk_level, evidence, owner, first_sync_rows, latency_ms, first_received_at, last_received_at, activated_at, updated_at)
      SELECT gen_random_uuid(), '${tenantId}', 'autonomy', (${st})[(1 + (h1 / 16) % ${SOURCE_TYPES.length})::int], ARRAY['res-' || g], md5(g::text),
        s::"ConnectionStatus",
        CASE s WHEN 'ACTIVE' THEN 'Onboarded successfully in Safe Mode' WHEN 'NETWORK_BLOCKED' THEN 'Destination not approved: db' || ((h2 / 3) % 97) || '.corp.example'
               WHEN 'AWAITING_CREDENTIALS' THEN 'Admin consent needed' WHEN 'HEALING' THEN 'First sync failed: HTTP 503' WHEN 'PENDING' THEN NULL ELSE 'Unexpected error ' || (g % 13) END,
        s IN ('ACTIVE', 'HEALING'), 'aod-' || g, 'safe_readonly', 'env:AAM_SECRET_X', (ARRAY['low','med','high'])[(1 + (h2 / 7) % 3)::int]::"RiskLevel",
        '{"status":"Sanctioned","source":"IdP"}'::jsonb, jsonb_build_object('user', 'owner' || ((h1 / 400) % 500) || '@example.com', 'confidence', 0.9, 'why', 'bench'),
        CASE WHEN s = 'ACTIVE' THEN 20 END, CASE WHEN s = 'ACTIVE' THEN 5 + (h2 / 11) % 900 END,
        rcv, rcv, CASE WHEN s = 'ACTIVE' THEN rcv + (((h2 / 13) % 40) * interval '1 hour') END, rcv + (((h1 / 17) % 50) * interval '1 hour')
      FROM (SELECT g, h1, h2, (${ss})[(1 + h1 % ${STATUSES.length})::int] AS s,
                   now() - (h2 % (90 * 24 * 60)) * interval '1 minute' AS rcv
            FROM (SELECT g, abs(hashint4(g)::bigint) AS h1, abs(hashint4(-g)::bigint) AS h2
                  FROM generate_series(${lo + 1}, ${hi}) g) r) x`);
  }
  await db.$executeRawUnsafe("VACUUM ANALYZE connections"); // what autovacuum does shortly after a bulk load
}

/** The funnel recomputed from the raw columns, independently of funnel.ts and the trigger-kept day columns. */
async function recount(db: Db, tenantId: string, days: number): Promise<Pick<FunnelMetrics, "received" | "eligible" | "reachable" | "active"> & { byStatus: Record<string, number>; dayOne: Record<string, [number, number, number]> }> {
  const rows = await db.$queryRawUnsafe<{ status: string; n: bigint; r: bigint }[]>(
    `SELECT status::text AS status, count(*) AS n, count(*) FILTER (WHERE reachable) AS r FROM connections WHERE tenant_id = $1::uuid AND namespace = 'autonomy' GROUP BY 1`,
    tenantId,
  );
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  const received = rows.reduce((a, r) => a + Number(r.n), 0);
  const cohorts = await db.$queryRawUnsafe<{ day: string; received: bigint; eligible: bigint; active: bigint }[]>(
    `SELECT to_char(date_trunc('day', first_received_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*) AS received,
            count(*) FILTER (WHERE status NOT IN ('UNSUPPORTED', 'NOT_SANCTIONED')) AS eligible,
            count(*) FILTER (WHERE status NOT IN ('UNSUPPORTED', 'NOT_SANCTIONED') AND activated_at IS NOT NULL AND activated_at <= first_received_at + interval '24 hours') AS active
     FROM connections WHERE tenant_id = $1::uuid AND namespace = 'autonomy'
       AND first_received_at >= (date_trunc('day', now() AT TIME ZONE 'UTC') - ($2::int - 1) * interval '1 day') AT TIME ZONE 'UTC'
     GROUP BY 1`,
    tenantId,
    days,
  );
  return {
    received,
    eligible: received - (byStatus.UNSUPPORTED ?? 0) - (byStatus.NOT_SANCTIONED ?? 0),
    reachable: rows.reduce((a, r) => a + Number(r.r), 0),
    active: byStatus.ACTIVE ?? 0,
    byStatus,
    dayOne: Object.fromEntries(cohorts.map((c) => [c.day, [Number(c.received), Number(c.eligible), Number(c.active)]])),
  };
}

function exactness(f: FunnelMetrics, r: Awaited<ReturnType<typeof recount>>): string {
  const diffs: string[] = [];
  for (const k of ["received", "eligible", "reachable", "active"] as const) if (f[k] !== r[k]) diffs.push(`${k} ${f[k]} ≠ ${r[k]}`);
  const per: [keyof FunnelMetrics, Status][] = [["awaiting_credentials", "AWAITING_CREDENTIALS"], ["network_blocked", "NETWORK_BLOCKED"], ["unsupported_type", "UNSUPPORTED"], ["healing", "HEALING"], ["error", "ERROR"]];
  for (const [k, s] of per) if (f[k] !== (r.byStatus[s] ?? 0)) diffs.push(`${k} ${String(f[k])} ≠ ${r.byStatus[s] ?? 0}`);
  const days = f.day_one ?? [];
  for (const d of days) {
    const want = r.dayOne[d.day] ?? [0, 0, 0];
    if (d.received !== want[0] || d.eligible !== want[1] || d.active_day_one !== want[2]) diffs.push(`day ${d.day} ${d.received}/${d.eligible}/${d.active_day_one} ≠ ${want.join("/")}`);
  }
  if (days.length !== Object.keys(r.dayOne).length) diffs.push(`${days.length} cohorts ≠ ${Object.keys(r.dayOne).length}`);
  return diffs.length ? `NOT exact: ${diffs.slice(0, 4).join("; ")}` : `exact (all counts and ${days.length} day-one cohorts equal a full recount)`;
}

type Filter = { label: string; q: Partial<ListQuery> };
const FILTERS: Filter[] = [
  { label: "no filter", q: {} },
  { label: "status=NETWORK_BLOCKED", q: { status: ["NETWORK_BLOCKED"] } },
  { label: "status in (HEALING,ERROR,AWAITING_CREDENTIALS)", q: { status: ["HEALING", "ERROR", "AWAITING_CREDENTIALS"] } },
  { label: "sourceType=salesforce", q: { sourceType: "salesforce" } },
  { label: "risk=high", q: { risk: "high" } },
  { label: "owner=owner42@", q: { owner: "owner42@" } },
  { label: "q=corp (free text)", q: { q: "db7.corp" } },
  { label: "status+sourceType+risk", q: { status: ["ACTIVE"], sourceType: "github", risk: "low" } },
  { label: "sourceType+risk", q: { sourceType: "salesforce", risk: "high" } },
  { label: "owner=owner4 (broad) + status=ACTIVE", q: { owner: "owner4", status: ["ACTIVE"] } },
  { label: "q=Unexpected (broad free text, 20%)", q: { q: "Unexpected" } },
  { label: "owner=owner4 (broad, any status)", q: { owner: "owner4" } },
  { label: "q=github (a source type's name, 5%)", q: { q: "github" } },
  { label: "q=db (short: IDs and source types)", q: { q: "db" } },
];

async function timeIt<T>(fn: () => Promise<T>, n: number): Promise<{ ms: number[]; last: T }> {
  let last = await fn(); // warm
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    last = await fn();
    ms.push(performance.now() - t);
  }
  return { ms, last };
}

function intent(i: number, tag: string) {
  return {
    source_type: "github",
    resource_ids: [`adm-${tag}-${i}`],
    scopes_mode: "safe_readonly",
    credential_locator: "env:AAM_SECRET_X",
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: new Date().toISOString() },
    owner: { user: "bench@example.com", confidence: 0.9, why: "bench" },
    config: { org: "acme" },
  };
}

export async function runMillion(db: Db, databaseUrl: string, sizes = [10_000, 100_000, 1_000_000]): Promise<void> {
  const tenant = await db.tenant.create({ data: { slug: `bench-million-${randomBytes(3).toString("hex")}`, name: "Bench million" } });
  const queue = await createQueue(databaseUrl);
  const summary: string[] = [];
  console.log(`4. A million connections in one tenant (namespace autonomy; ${conditions()})`);
  let have = 0;
  try {
    for (const size of sizes) {
      const t0 = performance.now();
      await grow(db, tenant.id, have, size);
      have = size;
      const loadS = (performance.now() - t0) / 1000;
      console.log(`\n   ${size.toLocaleString("en")} connections (bulk-loaded + VACUUM ANALYZE in ${f1(loadS)} s; ${conditions()})`);

      const funnel = await timeIt(() => getFunnel(db, tenant.id, "autonomy", { target: 0.9 }), 20);
      const exact = exactness(funnel.last, await recount(db, tenant.id, 30));
      console.log(`   funnel          p50 ${f1(q(funnel.ms, 50))} ms   p99 ${f1(q(funnel.ms, 99))} ms   (target ≤ 100 ms); ${exact}`);

      const pageMs: { label: string; filter: string; ms: number }[] = [];
      // where the middle of the namespace's order is, per sort (the row at half its size: a
      // cursor there is as deep as a page can be for every filter)
      const middle = new Map<string, ListCursor | undefined>();
      for (const sort of SORTABLE) {
        for (const dir of ["asc", "desc"] as const) {
          const half = await listConnections(db, tenant.id, { namespace: "autonomy", sort, dir, page: Math.max(1, Math.floor(size / 50)), pageSize: 25 });
          middle.set(`${sort} ${dir}`, half.nextCursor ? parseCursor(half.nextCursor, sort, dir) : undefined);
        }
      }
      for (const page of ["1", "40", "after the middle"] as const) {
        for (const f of FILTERS) {
          for (const sort of SORTABLE) {
            for (const dir of ["asc", "desc"] as const) {
              const lq: ListQuery = { namespace: "autonomy", sort, dir, page: 1, pageSize: 25, ...f.q };
              if (page === "40") {
                // the page's Next from page 39: the cursor where it ended
                const before = await listConnections(db, tenant.id, { ...lq, page: 39 });
                if (!before.nextCursor) continue;
                lq.after = parseCursor(before.nextCursor, sort, dir);
              } else if (page !== "1") {
                lq.after = middle.get(`${sort} ${dir}`);
                if (!lq.after) continue;
              }
              const t = await timeIt(() => listConnections(db, tenant.id, lq), 3);
              pageMs.push({ label: `${f.label}, sort ${sort} ${dir}, page ${page}`, filter: f.label, ms: q(t.ms, 50) });
            }
          }
        }
      }
      const all = pageMs.map((p) => p.ms);
      const worst = [...pageMs].sort((a, b) => b.ms - a.ms);
      const over = pageMs.filter((p) => p.ms > 100).length;
      console.log(`   list page       p50 ${f1(q(all, 50))} ms   p90 ${f1(q(all, 90))} ms   max ${f1(worst[0]!.ms)} ms over ${pageMs.length} filter × sort × page combinations; ${over} above 100 ms`);
      for (const w of worst.slice(0, 4)) console.log(`                   ${lpad(f1(w.ms), 7)} ms  ${w.label}`);
      for (const f of FILTERS) {
        const xs = pageMs.filter((p) => p.filter === f.label).map((p) => p.ms);
        console.log(`                   ${pad(f.label, 48)} p50 ${lpad(f1(q(xs, 50)), 7)} ms   max ${lpad(f1(Math.max(...xs)), 7)} ms  (${xs.length} sort × page combinations)`);
      }
      const types = await timeIt(() => distinctSourceTypes(db, tenant.id, "autonomy"), 5);
      const spaces = await timeIt(() => listNamespaces(db, tenant.id), 5);
      console.log(`   page helpers    source-type options (${types.last.length}) p50 ${f1(q(types.ms, 50))} ms; namespaces with counts p50 ${f1(q(spaces.ms, 50))} ms`);

      const adm: number[] = [];
      for (let b = 0; b < 3; b++) {
        const tag = `${size}-${b}`;
        const items = Array.from({ length: 1000 }, (_, i) => intent(i, tag));
        const t = performance.now();
        const out = await submitBatch({ db, enqueue: (ids) => queue.enqueueOnboarding(ids), waitForFinal: async () => false }, tenant.id, items);
        adm.push(performance.now() - t);
        if (out.accepted !== 1000) throw new Error(`admission accepted ${out.accepted} of 1000: ${JSON.stringify(out.items.find((i) => "error" in i))}`);
        // keep the size as stated: the admitted rows go again (their jobs find nothing to do)
        await db.$executeRawUnsafe(`DELETE FROM connections WHERE tenant_id = $1::uuid AND resource_ids[1] LIKE $2`, tenant.id, `adm-${tag}-%`);
      }
      await db.$executeRawUnsafe("DELETE FROM graphile_worker._private_jobs").catch(() => db.$executeRawUnsafe("DELETE FROM graphile_worker.jobs").catch(() => undefined));
      console.log(`   admission       1,000-intent batch p50 ${f1(q(adm, 50))} ms   max ${f1(Math.max(...adm))} ms   (target ≤ 1,000 ms; validation + upsert + enqueue, no HTTP)`);
      summary.push(`${pad(size.toLocaleString("en"), 11)}${lpad(f1(q(funnel.ms, 50)), 12)}${lpad(f1(q(all, 50)), 14)}${lpad(f1(worst[0]!.ms), 12)}${lpad(f1(q(adm, 50)), 14)}`);
    }
    console.log(`\n   growth      funnel p50   list p50 (all)   list max   admission p50   (ms)`);
    for (const s of summary) console.log(`   ${s}`);
    console.log();
  } finally {
    await queue.close(); // the bench's scratch database, with this tenant, is dropped after the run
  }
}
