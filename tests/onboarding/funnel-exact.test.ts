/**
 * The funnel is exact at scale (issue 13, item 5): 20,000 connections, then rounds of random
 * inserts, updates (status, reachability, activation, receipt moved across days) and deletes —
 * after each round getFunnel() equals a full recount done here in plain code from the raw rows
 * (status, reachable, first_received_at, activated_at), not from the trigger-kept day columns
 * the funnel reads. Other tenants' and namespaces' rows change too and must never count.
 * The million-row figures are in the benchmark (`npm run bench -- --million`), not here; no
 * timing is asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { getFunnel } from "../../server/onboarding/funnel";
import type { FunnelMetrics } from "../../server/onboarding/schemas";
import { createScratchDatabase, createTestTenant } from "../helpers/db";
import { rng } from "../helpers/rng";

const ROWS = 20_000;
const DAY_MS = 86_400_000;
const STATUSES = ["PENDING", "ACTIVE", "AWAITING_CREDENTIALS", "NETWORK_BLOCKED", "UNSUPPORTED", "HEALING", "ERROR", "NOT_SANCTIONED"] as const;
const NOW = new Date("2026-12-01T12:00:00Z");

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let tenantId: string;
let otherTenant: string;

/** `n` rows for a tenant/namespace, generated server-side (statuses, receipts over 40 days, activation within 0–47 h). */
async function insertRows(tenant: string, namespace: string, from: number, n: number, seed: number): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, reachable, scopes_mode,
       credential_locator, risk_level, evidence, owner, first_received_at, activated_at, updated_at)
     SELECT gen_random_uuid(), $1::uuid, $2, 'github', ARRAY['r' || g], md5($4::text || ':' || g), st::"ConnectionStatus", st IN ('ACTIVE', 'HEALING'),
       'safe_readonly', 'env:X', 'low', '{}'::jsonb, '{}'::jsonb, rcv,
       CASE WHEN st = 'ACTIVE' OR (st = 'HEALING' AND h % 2 = 0) THEN rcv + (h % 48) * interval '1 hour' END, now()
     FROM (SELECT g, (ARRAY['PENDING','ACTIVE','ACTIVE','ACTIVE','ACTIVE','AWAITING_CREDENTIALS','NETWORK_BLOCKED','UNSUPPORTED','HEALING','ERROR','NOT_SANCTIONED'])[1 + abs(hashint4(g + $5::int)::bigint) % 11] AS st,
                  abs(hashint4(g * 7 + $5::int)::bigint) AS h,
                  $6::timestamptz - (abs(hashint4(g * 13 + $5::int)::bigint) % (40 * 24 * 60)) * interval '1 minute' AS rcv
           FROM generate_series($3::int, $3::int + $7::int - 1) g) x`,
    tenant,
    namespace,
    from,
    `${namespace}:${seed}`,
    seed,
    NOW.toISOString(),
    n,
  );
}

type Raw = { status: string; reachable: boolean; first_received_at: Date; activated_at: Date | null };

/** The funnel computed in plain code from every raw row of the tenant's namespace. */
async function recount(tenant: string, namespace: string, days = 30): Promise<Omit<FunnelMetrics, "target" | "slo_met" | "namespace">> {
  const rows = await db.$queryRawUnsafe<Raw[]>(`SELECT status::text AS status, reachable, first_received_at, activated_at FROM connections WHERE tenant_id = $1::uuid AND namespace = $2`, tenant, namespace);
  const by = (s: string) => rows.filter((r) => r.status === s).length;
  const ineligible = (s: string) => s === "UNSUPPORTED" || s === "NOT_SANCTIONED";
  const today = Math.floor(NOW.getTime() / DAY_MS);
  const cohorts = new Map<number, { received: number; eligible: number; active_day_one: number }>();
  for (const r of rows) {
    const day = Math.floor(r.first_received_at.getTime() / DAY_MS);
    if (day <= today - days || day > today) continue;
    const c = cohorts.get(day) ?? { received: 0, eligible: 0, active_day_one: 0 };
    c.received++;
    if (!ineligible(r.status)) {
      c.eligible++;
      if (r.activated_at && r.activated_at.getTime() <= r.first_received_at.getTime() + DAY_MS) c.active_day_one++;
    }
    cohorts.set(day, c);
  }
  const received = rows.length;
  const eligible = received - by("UNSUPPORTED") - by("NOT_SANCTIONED");
  const active = by("ACTIVE");
  const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000);
  return {
    received,
    eligible,
    reachable: rows.filter((r) => r.reachable).length,
    active,
    awaiting_credentials: by("AWAITING_CREDENTIALS"),
    network_blocked: by("NETWORK_BLOCKED"),
    unsupported_type: by("UNSUPPORTED"),
    healing: by("HEALING"),
    error: by("ERROR"),
    not_sanctioned: by("NOT_SANCTIONED"),
    pending: by("PENDING"),
    coverage: ratio(active, eligible),
    day_one: [...cohorts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([day, c]) => ({ day: new Date(day * DAY_MS).toISOString().slice(0, 10), ...c, coverage: ratio(c.active_day_one, c.eligible) })),
  };
}

async function expectExact(tenant: string, namespace: string): Promise<FunnelMetrics> {
  const f = await getFunnel(db, tenant, namespace, { target: 0.9, now: NOW });
  const { target: _t, slo_met: _s, namespace: _n, ...counts } = f;
  expect(counts).toEqual(await recount(tenant, namespace));
  return f;
}

/** One round of random changes, on the tenant's namespace and, as noise, on other rows. */
async function mutate(tenant: string, namespace: string, r: () => number, round: number): Promise<void> {
  const ids = await db.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM connections WHERE tenant_id = $1::uuid AND namespace = $2 ORDER BY md5(id::text || $3) LIMIT 1500`, tenant, namespace, String(round));
  const pick = (n: number) => ids.splice(0, n).map((x) => x.id);
  // status changes with the pipeline's reachability rule, activation set or cleared
  for (const status of STATUSES) {
    const chosen = pick(Math.floor(r() * 120) + 10);
    if (!chosen.length) continue;
    const activate = status === "ACTIVE" ? "COALESCE(activated_at, now() - (random() * 60) * interval '1 hour')" : r() < 0.5 ? "activated_at" : "NULL";
    await db.$executeRawUnsafe(
      `UPDATE connections SET status = $2::"ConnectionStatus", reachable = $3, activated_at = ${activate}, updated_at = now() WHERE id = ANY ($1::uuid[])`,
      chosen,
      status,
      status === "ACTIVE" || status === "HEALING",
    );
  }
  // receipts moved across day boundaries (re-cohorting), activation moved across the 24 h line
  await db.$executeRawUnsafe(`UPDATE connections SET first_received_at = first_received_at - (random() * 72) * interval '1 hour' WHERE id = ANY ($1::uuid[])`, pick(200));
  await db.$executeRawUnsafe(`UPDATE connections SET activated_at = first_received_at + (random() * 48) * interval '1 hour' WHERE id = ANY ($1::uuid[]) AND activated_at IS NOT NULL`, pick(200));
  // only reachability flips (a health check passed, then a later one failed)
  await db.$executeRawUnsafe(`UPDATE connections SET reachable = NOT reachable WHERE id = ANY ($1::uuid[])`, pick(50));
  // deletes and inserts
  await db.$executeRawUnsafe(`DELETE FROM connections WHERE id = ANY ($1::uuid[])`, pick(Math.floor(r() * 300) + 50));
  await insertRows(tenant, namespace, 1_000_000 + round * 10_000, Math.floor(r() * 500) + 100, 1000 + round);
  // noise elsewhere: another namespace of this tenant and another tenant
  await insertRows(tenant, "other-ns", 2_000_000 + round * 1_000, 200, 2000 + round);
  await insertRows(otherTenant, namespace, 3_000_000 + round * 1_000, 200, 3000 + round);
  await db.$executeRawUnsafe(`UPDATE connections SET status = 'ACTIVE', reachable = true, activated_at = now() WHERE tenant_id <> $1::uuid AND random() < 0.2`, tenant);
}

beforeAll(async () => {
  scratch = await createScratchDatabase();
  await applyMigrations(scratch.url);
  db = createDb(scratch.url, 4);
  tenantId = await createTestTenant(db, "exact");
  otherTenant = await createTestTenant(db, "exact-other");
  await insertRows(tenantId, "autonomy", 1, ROWS, 1);
  await insertRows(tenantId, "other-ns", 1, 2_000, 2);
  await insertRows(otherTenant, "autonomy", 1, 2_000, 3);
}, 120_000);

afterAll(async () => {
  await db?.$disconnect();
  await scratch?.drop();
});

describe("funnel exactness at scale", () => {
  it("equals a full recount of 20,000 connections", async () => {
    const f = await expectExact(tenantId, "autonomy");
    expect(f.received).toBe(ROWS);
    expect(f.day_one?.length).toBe(30);
  });

  it("stays equal to a full recount after rounds of random inserts, updates and deletes", async () => {
    const r = rng(13);
    for (let round = 1; round <= 6; round++) {
      await mutate(tenantId, "autonomy", r, round);
      await expectExact(tenantId, "autonomy");
    }
    // the noise never leaked in, and is itself exact
    await expectExact(tenantId, "other-ns");
    await expectExact(otherTenant, "autonomy");
  }, 120_000);

  it("stays exact under concurrent writers, rolled-back writes, a namespace move and a deleted tenant", async () => {
    // eight transactions at once on the same groups (the counts' hot rows), one of them rolled back
    const ids = (await db.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM connections WHERE tenant_id = $1::uuid AND namespace = 'autonomy' ORDER BY id LIMIT 800`, tenantId)).map((x) => x.id);
    // (two multi-statement transactions that share a slot can deadlock on the counts' rows: the
    // database aborts one, and it is retried — as the app retries a deadlock — never half-counted)
    let deadlocks = 0;
    const retried = async (fn: () => Promise<void>): Promise<void> => {
      for (let t = 1; ; t++) {
        try {
          return await fn();
        } catch (e) {
          if (!(e instanceof Error && /40P01|deadlock/.test(e.message)) || t >= 10) throw e;
          deadlocks++;
        }
      }
    };
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        retried(() =>
          db.$transaction(async (tx) => {
            const mine = ids.slice(i * 100, i * 100 + 100);
            await tx.$executeRawUnsafe(`UPDATE connections SET status = 'ACTIVE', reachable = true, activated_at = COALESCE(activated_at, now()) WHERE id = ANY ($1::uuid[])`, mine.slice(0, 50));
            await tx.$executeRawUnsafe(`UPDATE connections SET status = 'HEALING', reachable = true WHERE id = ANY ($1::uuid[])`, mine.slice(50));
            if (i === 3) throw new Error("rolled back on purpose");
          }),
        ).catch((e: Error) => {
          if (e.message !== "rolled back on purpose") throw e;
        }),
      ),
    );
    expect(deadlocks).toBeLessThan(10);
    await expectExact(tenantId, "autonomy");
    // moving rows to another namespace moves their counts
    await db.$executeRawUnsafe(`UPDATE connections SET namespace = 'moved-ns' WHERE id = ANY ($1::uuid[])`, ids.slice(0, 120));
    await expectExact(tenantId, "autonomy");
    expect((await expectExact(tenantId, "moved-ns")).received).toBe(120);
    // a tenant deleted with its connections (cascade) leaves nothing behind in any count
    const gone = await createTestTenant(db, "exact-gone");
    await insertRows(gone, "autonomy", 1, 500, 77);
    expect((await expectExact(gone, "autonomy")).received).toBe(500);
    await db.$executeRawUnsafe(`DELETE FROM tenants WHERE id = $1::uuid`, gone);
    expect((await expectExact(gone, "autonomy")).received).toBe(0);
    await expectExact(otherTenant, "autonomy");
  }, 120_000);

  it("counts a namespace that holds nothing as all zeros", async () => {
    const f = await expectExact(tenantId, "empty-ns");
    expect(f.received).toBe(0);
    expect(f.coverage).toBe(0);
  });
});
