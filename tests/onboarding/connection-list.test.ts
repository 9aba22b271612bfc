/**
 * The connections list's filters and totals (issue 13 item 5), against the real database: every
 * filter the page offers returns exactly the rows a plain-code filter of the raw rows returns;
 * totals with no search filter are exact (from the trigger-kept counts), search filters count up
 * to TOTAL_CAP and then say so; namespaces come with their exact counts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { type ListQuery, TOTAL_CAP, listConnections, listNamespaces } from "../../server/onboarding/connection-query";
import { createScratchDatabase, createTestTenant } from "../helpers/db";

let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let tenantId: string;
const N = 12_000;

async function insert(tenant: string, namespace: string, n: number, tag: string): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, reachable, intent_id, scopes_mode,
       credential_locator, risk_level, evidence, owner, updated_at)
     SELECT gen_random_uuid(), $1::uuid, $2, (ARRAY['github','slack','jira','salesforce','postgres'])[1 + g % 5], ARRAY['res-' || $3 || '-' || g], md5($3 || g),
       (ARRAY['ACTIVE','ACTIVE','HEALING','NETWORK_BLOCKED','ERROR'])[1 + g % 5]::"ConnectionStatus",
       CASE WHEN g % 5 = 3 THEN 'Destination not approved: db' || (g % 13) || '.corp.example' ELSE 'Onboarded successfully in Safe Mode' END,
       g % 5 < 3, 'intent-' || $3 || '-' || g, 'safe_readonly', 'env:X', (ARRAY['low','med','high'])[1 + g % 3]::"RiskLevel", '{}'::jsonb,
       jsonb_build_object('user', 'Owner' || (g % 40) || '@Example.com'), now() - g * interval '1 second'
     FROM generate_series(1, $4::int) g`,
    tenant,
    namespace,
    tag,
    n,
  );
}

type Raw = { id: string; source_type: string; status: string; status_reason: string; risk_level: string; owner_user: string; resource_ids: string[]; intent_id: string };
let raw: Raw[];

beforeAll(async () => {
  scratch = await createScratchDatabase();
  await applyMigrations(scratch.url);
  db = createDb(scratch.url, 4);
  tenantId = await createTestTenant(db, "list");
  await insert(tenantId, "autonomy", N, "a");
  await insert(tenantId, "small", 37, "s");
  await insert(await createTestTenant(db, "list-other"), "autonomy", 500, "o");
  raw = await db.$queryRawUnsafe<Raw[]>(
    `SELECT id::text, source_type, status::text, status_reason, risk_level::text, owner ->> 'user' AS owner_user, resource_ids, intent_id FROM connections WHERE tenant_id = $1::uuid AND namespace = 'autonomy'`,
    tenantId,
  );
}, 120_000);

afterAll(async () => {
  await db?.$disconnect();
  await scratch?.drop();
});

const base: ListQuery = { namespace: "autonomy", sort: "updatedAt", dir: "desc", page: 1, pageSize: 25 };

describe("connections list", () => {
  it("returns, for every filter, exactly the rows the filter means, with exact or honestly capped totals", async () => {
    const cases: { q: Partial<ListQuery>; keep: (r: Raw) => boolean }[] = [
      { q: {}, keep: () => true },
      { q: { status: ["HEALING", "ERROR"] }, keep: (r) => r.status === "HEALING" || r.status === "ERROR" },
      { q: { sourceType: "jira" }, keep: (r) => r.source_type === "jira" },
      { q: { risk: "high", status: ["ACTIVE"] }, keep: (r) => r.risk_level === "high" && r.status === "ACTIVE" },
      { q: { owner: "EXAMPLE.com" }, keep: (r) => r.owner_user.toLowerCase().includes("example.com") },
      { q: { owner: "owner7@example" }, keep: (r) => r.owner_user.toLowerCase().includes("owner7@example") },
      { q: { q: "db7.corp" }, keep: (r) => r.status_reason.toLowerCase().includes("db7.corp") },
      { q: { q: "res-a-4242" }, keep: (r) => r.resource_ids.includes("res-a-4242") },
      { q: { q: "intent-a-17" }, keep: (r) => r.intent_id === "intent-a-17" },
      { q: { q: "sales" }, keep: (r) => r.source_type.includes("sales") || r.status_reason.toLowerCase().includes("sales") },
    ];
    expect(raw.filter(cases[4]!.keep).length).toBeGreaterThan(TOTAL_CAP); // one search past the cap
    for (const c of cases) {
      const want = raw.filter(c.keep);
      const searched = Boolean(c.q.sourceType || c.q.risk || c.q.owner || c.q.q);
      const got = await listConnections(db, tenantId, { ...base, ...c.q, pageSize: 100 });
      const label = JSON.stringify(c.q);
      if (searched && want.length > TOTAL_CAP) {
        expect({ label, total: got.total, capped: got.totalCapped }).toEqual({ label, total: TOTAL_CAP, capped: true });
      } else {
        expect({ label, total: got.total, capped: got.totalCapped }).toEqual({ label, total: want.length, capped: false });
      }
      // every row returned matches, and the first page is full when there are enough
      const ids = new Set(want.map((r) => r.id));
      for (const r of got.rows) expect(ids.has(r.id), label).toBe(true);
      expect(got.rows.length).toBe(Math.min(100, want.length));
    }
  });

  it("counts every namespace of the tenant exactly, and only the tenant's", async () => {
    expect(await listNamespaces(db, tenantId)).toEqual([
      { namespace: "autonomy", count: N },
      { namespace: "small", count: 37 },
    ]);
    await db.$executeRawUnsafe(`DELETE FROM connections WHERE tenant_id = $1::uuid AND namespace = 'small'`, tenantId);
    expect(await listNamespaces(db, tenantId)).toEqual([{ namespace: "autonomy", count: N }]);
  });
});
