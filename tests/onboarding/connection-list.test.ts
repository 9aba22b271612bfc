/**
 * The connections list's filters and totals (issue 13 item 5), against the real database: every
 * filter the page offers returns exactly the rows a plain-code filter of the raw rows returns;
 * totals with no search filter are exact (from the trigger-kept counts), search filters count up
 * to the cap and then say so; namespaces come with their exact counts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { type ListQuery, TOTAL_CAP, listConnections as listWithCap, listNamespaces, parseCursor, readMatchesWhole } from "../../server/onboarding/connection-query";

// the cap scaled to this test's 12,000 rows (the product's is TOTAL_CAP, 50,000)
const CAP = 10_000;
const listConnections = (d: Db, t: string, q: ListQuery) => listWithCap(d, t, q, { cap: CAP });
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
  // latency only where onboarding finished (the sort's NULLs sit with the other statuses), receipts spread over days
  await db.$executeRawUnsafe(
    `UPDATE connections SET latency_ms = CASE WHEN status = 'ACTIVE' THEN abs(hashint4(hashtext(id::text))) % 500 END,
       first_received_at = now() - (abs(hashint4(hashtext(id::text) + 1)) % 9000) * interval '1 minute'
     WHERE tenant_id = $1::uuid AND namespace = $2`,
    tenant,
    namespace,
  );
}

type Raw = {
  id: string;
  source_type: string;
  resource_key: string;
  status: string;
  status_reason: string;
  risk_level: string;
  owner_user: string;
  resource_ids: string[];
  intent_id: string;
  latency_ms: number | null;
  updated_at: Date;
  first_received_at: Date;
};
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
    `SELECT id::text, source_type, resource_key, status::text, status_reason, risk_level::text, owner ->> 'user' AS owner_user, resource_ids, intent_id, latency_ms, updated_at, first_received_at
     FROM connections WHERE tenant_id = $1::uuid AND namespace = 'autonomy'`,
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
    expect(raw.filter(cases[4]!.keep).length).toBeGreaterThan(CAP); // one search past the cap
    for (const c of cases) {
      const want = raw.filter(c.keep);
      const searched = Boolean(c.q.sourceType || c.q.risk || c.q.owner || c.q.q);
      const got = await listConnections(db, tenantId, { ...base, ...c.q, pageSize: 100 });
      const label = JSON.stringify(c.q);
      if (searched && want.length > CAP) {
        expect({ label, total: got.total, capped: got.totalCapped }).toEqual({ label, total: CAP, capped: true });
      } else {
        expect({ label, total: got.total, capped: got.totalCapped }).toEqual({ label, total: want.length, capped: false });
      }
      // every row returned matches, and the first page is full when there are enough
      const ids = new Set(want.map((r) => r.id));
      for (const r of got.rows) expect(ids.has(r.id), label).toBe(true);
      expect(got.rows.length).toBe(Math.min(100, want.length));
    }
  });

  it("orders every sort, both ways, on early and deep pages, as a plain-code sort of the matches (few matches and many)", async () => {
    const STATUS_ORDER = ["PENDING", "ACTIVE", "AWAITING_CREDENTIALS", "NETWORK_BLOCKED", "UNSUPPORTED", "HEALING", "ERROR", "NOT_SANCTIONED"];
    const RISK_ORDER = ["low", "med", "high"];
    const keyOf: Record<ListQuery["sort"], (r: Raw) => (number | string | null)[]> = {
      updatedAt: (r) => [r.updated_at.getTime()],
      firstReceivedAt: (r) => [r.first_received_at.getTime()],
      sourceType: (r) => [r.source_type, r.resource_key],
      status: (r) => [STATUS_ORDER.indexOf(r.status)],
      riskLevel: (r) => [RISK_ORDER.indexOf(r.risk_level)],
      latencyMs: (r) => [r.latency_ms],
    };
    // a cursor's key as the list hands it out (encodeCursor of the page's last row)
    const cursorKey: Record<ListQuery["sort"], (r: Raw) => (number | string | null)[]> = {
      updatedAt: (r) => [r.updated_at.toISOString()],
      firstReceivedAt: (r) => [r.first_received_at.toISOString()],
      sourceType: (r) => [r.source_type, r.resource_key],
      status: (r) => [r.status],
      riskLevel: (r) => [r.risk_level],
      latencyMs: (r) => [r.latency_ms],
    };
    // PostgreSQL's order: NULLs last going up, first going down; then the id
    const cmp = (a: (number | string | null)[], b: (number | string | null)[]): number => {
      for (let i = 0; i < a.length; i++) {
        const x = a[i]!;
        const y = b[i]!;
        if (x === y) continue;
        if (x === null) return 1;
        if (y === null) return -1;
        return x < y ? -1 : 1;
      }
      return 0;
    };
    const filters: { q: Partial<ListQuery>; keep: (r: Raw) => boolean }[] = [
      { q: {}, keep: () => true }, // many: one walk per status
      { q: { status: ["NETWORK_BLOCKED", "ERROR"] }, keep: (r) => r.status === "NETWORK_BLOCKED" || r.status === "ERROR" }, // few
      { q: { owner: "example.com" }, keep: () => true }, // many, searched
      { q: { q: "corp", risk: "low" }, keep: (r) => r.status_reason.toLowerCase().includes("corp") && r.risk_level === "low" }, // few, searched
      // a filter that fixes the sort's column (a cursor then seeks on the rest of the key)
      { q: { sourceType: "jira", risk: "high" }, keep: (r) => r.source_type === "jira" && r.risk_level === "high" },
    ];
    for (const f of filters) {
      const matches = raw.filter(f.keep);
      for (const sort of ["updatedAt", "firstReceivedAt", "sourceType", "status", "riskLevel", "latencyMs"] as const) {
        for (const dir of ["asc", "desc"] as const) {
          const sorted = [...matches].sort((a, b) => {
            const c = cmp(keyOf[sort](a), keyOf[sort](b));
            const k = dir === "asc" ? c : -c;
            return k !== 0 ? k : dir === "asc" ? (a.id < b.id ? -1 : 1) : a.id < b.id ? 1 : -1;
          });
          for (const page of [1, 7]) {
            const got = await listConnections(db, tenantId, { ...base, ...f.q, sort, dir, page, pageSize: 25 });
            const label = `${JSON.stringify(f.q)} ${sort} ${dir} page ${page}`;
            expect(got.rows.map((r) => r.id), label).toEqual(sorted.slice((page - 1) * 25, page * 25).map((r) => r.id));
            // keyset paging: the page's own cursor leads to the next page, as the page after by offset
            const next = await listConnections(db, tenantId, { ...base, ...f.q, sort, dir, page: page + 1, pageSize: 25, after: parseCursor(got.nextCursor!, sort, dir) });
            expect(next.rows.map((r) => r.id), `${label} → next`).toEqual(sorted.slice(page * 25, (page + 1) * 25).map((r) => r.id));
          }
          // from a cursor at any row (as a page ending there hands it): the 25 after it — deep,
          // at the end, and on both sides of where latency's NULLs begin or end
          const ends = [174, 2_001, sorted.length - 26, sorted.length - 2];
          const flip = sorted.findIndex((r, i) => i > 0 && (r.latency_ms === null) !== (sorted[i - 1]!.latency_ms === null));
          if (sort === "latencyMs" && flip > 0) ends.push(flip - 13, flip - 1, flip);
          for (const end of ends.filter((e) => e >= 0 && e < sorted.length - 1)) {
            const r = sorted[end]!;
            const after = { sort, dir, key: cursorKey[sort](r), id: r.id };
            const got = await listConnections(db, tenantId, { ...base, ...f.q, sort, dir, page: 1, pageSize: 25, after });
            const want = sorted.slice(end + 1, end + 26);
            expect(got.rows.map((x) => x.id), `${JSON.stringify(f.q)} ${sort} ${dir} after row ${end}`).toEqual(want.map((x) => x.id));
            expect(got.nextCursor === null, `${sort} ${dir} after row ${end}: a cursor only after a full page`).toBe(want.length < 25);
          }
        }
      }
    }
    // what a row says: statuses and risks as words, the owner's user
    const [one] = (await listConnections(db, tenantId, { ...base, q: "intent-a-17" })).rows;
    expect(one).toMatchObject({ status: expect.stringMatching(/^[A-Z_]+$/), riskLevel: expect.stringMatching(/^(low|med|high)$/), owner: "Owner17@Example.com", resourceIds: ["res-a-17"] });
  }, 60_000);

  it("treats %, _ and \\ in a search as themselves", async () => {
    expect((await listConnections(db, tenantId, { ...base, q: "%" })).total).toBe(0);
    expect((await listConnections(db, tenantId, { ...base, owner: "owner_7" })).total).toBe(0);
    expect((await listConnections(db, tenantId, { ...base, q: "db_.corp" })).total).toBe(0);
    expect((await listConnections(db, tenantId, { ...base, q: "db1.corp" })).total).toBeGreaterThan(0);
  });

  it("reads a filter's matches whole only while that beats walking past the rows it skips", () => {
    expect(TOTAL_CAP).toBe(50_000);
    expect(readMatchesWhole(1_500, 1_000_000, 25)).toBe(true); // few: always
    expect(readMatchesWhole(8_000, 1_000_000, 1_000)).toBe(true); // 64M ≤ 1,000M
    expect(readMatchesWhole(8_000, 1_000_000, 25)).toBe(false); // page 1 of a 0.8% filter: the walk skips ~3,000 rows
    expect(readMatchesWhole(40_000, 1_000_000, 1_000)).toBe(false);
    expect(readMatchesWhole(60_000, 60_000, 1_000_000)).toBe(false); // past the cap: never whole
  });

  it("past the cap, a search still finds a status's few matches that lie beyond the ones counted", async () => {
    // three NETWORK_BLOCKED rows (no other one matches "onboarded") rewritten, so they sit at the
    // table's end, past the first matches a capped count reads, and sort first by update time
    const few = raw.filter((r) => r.status === "NETWORK_BLOCKED").slice(0, 3).map((r) => r.id);
    await db.$executeRawUnsafe(
      `UPDATE connections SET status_reason = 'Onboarded after a retry', updated_at = now() + interval '1 day' WHERE id = ANY ($1::uuid[])`,
      few,
    );
    const now = await db.$queryRawUnsafe<Raw[]>(
      `SELECT id::text, status::text, status_reason, updated_at FROM connections WHERE tenant_id = $1::uuid AND namespace = 'autonomy'`,
      tenantId,
    );
    const want = now
      .filter((r) => r.status_reason.toLowerCase().includes("onboarded"))
      .sort((a, b) => b.updated_at.getTime() - a.updated_at.getTime() || (a.id < b.id ? 1 : -1));
    expect(want.length).toBeGreaterThan(2_000);
    for (const page of [1, 3]) {
      const got = await listWithCap(db, tenantId, { ...base, q: "onboarded", page }, { cap: 2_000 });
      expect({ total: got.total, capped: got.totalCapped }).toEqual({ total: 2_000, capped: true });
      expect(got.rows.map((r) => r.id), `page ${page}`).toEqual(want.slice((page - 1) * 25, page * 25).map((r) => r.id));
    }
    const first = await listWithCap(db, tenantId, { ...base, q: "onboarded" }, { cap: 2_000 });
    expect(first.rows.slice(0, 3).map((r) => r.id).sort()).toEqual([...few].sort());
    // and the status alone: exactly those three
    const blocked = await listWithCap(db, tenantId, { ...base, q: "onboarded", status: ["NETWORK_BLOCKED"] }, { cap: 2_000 });
    expect(blocked.rows.map((r) => r.id).sort()).toEqual([...few].sort());
  });

  it("past the cap, a row that changed status is found under its new status (its reason unchanged)", async () => {
    // two of the NETWORK_BLOCKED rows (the only ones whose reason says "corp.example") move to
    // NOT_SANCTIONED, which holds nothing else: past the cap, its matches are read through its own
    // trigrams, which the status change alone must have rewritten. (The last status and the last
    // rows in the table: past the first matches a capped count reads, in index or table order.)
    const moved = (
      await db.$queryRawUnsafe<{ id: string }[]>(
        `SELECT id::text FROM connections WHERE tenant_id = $1::uuid AND namespace = 'autonomy' AND status = 'NETWORK_BLOCKED' AND status_reason LIKE '%corp.example%' ORDER BY ctid DESC LIMIT 2`,
        tenantId,
      )
    ).map((r) => r.id);
    await db.$executeRawUnsafe(`UPDATE connections SET status = 'NOT_SANCTIONED', updated_at = now() + interval '2 days' WHERE id = ANY ($1::uuid[])`, moved);
    const matching = raw.filter((r) => r.status_reason.includes("corp.example")).length;
    expect(matching).toBeGreaterThan(2_000);
    const got = await listWithCap(db, tenantId, { ...base, q: "corp.example" }, { cap: 2_000 });
    expect(got.totalCapped).toBe(true);
    expect(got.rows.slice(0, 2).map((r) => ({ id: r.id, status: r.status })).sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
      [...moved].sort().map((id) => ({ id, status: "NOT_SANCTIONED" })),
    );
    // and under the old status they are gone
    const blocked = await listWithCap(db, tenantId, { ...base, q: "corp.example", status: ["NETWORK_BLOCKED"], sort: "updatedAt", dir: "desc" }, { cap: 2_000 });
    expect(blocked.rows.map((r) => r.id).filter((id) => moved.includes(id))).toEqual([]);
  });

  it("free text without a word of 3 letters or digits finds exact intent and resource IDs and source types, not status text", async () => {
    const [one] = raw.filter((r) => r.status === "ERROR");
    await db.$executeRawUnsafe(`UPDATE connections SET resource_ids = ARRAY['x1'], intent_id = 'q9' WHERE id = $1::uuid`, one!.id);
    for (const text of ["x1", "q9"]) expect((await listConnections(db, tenantId, { ...base, q: text })).rows.map((r) => r.id), text).toEqual([one!.id]);
    // "db" is inside every "db7.corp.example" reason, but has no word to look up: no match
    expect(raw.some((r) => r.status_reason.includes("db"))).toBe(true);
    expect((await listConnections(db, tenantId, { ...base, q: "db" })).total).toBe(0);
    // and inside a source type's name it finds the type (jira: "ji")
    const jira = await listConnections(db, tenantId, { ...base, q: "ji" });
    expect(jira.total).toBe(raw.filter((r) => r.source_type === "jira").length);
  });

  it("past the cap, free text that names a source type returns its type's rows and the others, each once, in every sort order", async () => {
    // every jira row is HEALING; some rows of other types and statuses now mention jira in their
    // reason (statuses before and after HEALING in either order), as do some jira rows (both ways)
    const others = [
      ...raw.filter((r) => r.source_type !== "jira" && r.status === "ERROR").slice(0, 30),
      ...raw.filter((r) => r.source_type !== "jira" && r.status === "NETWORK_BLOCKED").slice(0, 20),
    ].map((r) => r.id);
    const jiraToo = raw.filter((r) => r.source_type === "jira").slice(0, 10).map((r) => r.id);
    expect(new Set(raw.filter((r) => r.source_type === "jira").map((r) => r.status))).toEqual(new Set(["HEALING"]));
    await db.$executeRawUnsafe(`UPDATE connections SET status_reason = 'Jira token expired' WHERE id = ANY ($1::uuid[])`, [...others, ...jiraToo]);
    const now = await db.$queryRawUnsafe<Raw[]>(
      `SELECT id::text, source_type, resource_key, status::text, status_reason, risk_level::text, latency_ms, updated_at, first_received_at
       FROM connections WHERE tenant_id = $1::uuid AND namespace = 'autonomy'`,
      tenantId,
    );
    const matches = now.filter((r) => r.source_type.includes("jira") || r.status_reason.toLowerCase().includes("jira"));
    expect(matches.length).toBeGreaterThan(2_000);
    const STATUS_ORDER = ["PENDING", "ACTIVE", "AWAITING_CREDENTIALS", "NETWORK_BLOCKED", "UNSUPPORTED", "HEALING", "ERROR", "NOT_SANCTIONED"];
    const keyOf: Record<ListQuery["sort"], (r: Raw) => number | string> = {
      updatedAt: (r) => r.updated_at.getTime(),
      firstReceivedAt: (r) => r.first_received_at.getTime(),
      sourceType: (r) => `${r.source_type}\u0000${r.resource_key}`,
      status: (r) => STATUS_ORDER.indexOf(r.status),
      riskLevel: (r) => ["low", "med", "high"].indexOf(r.risk_level),
      latencyMs: (r) => r.latency_ms ?? Number.POSITIVE_INFINITY, // NULLs last going up
    };
    for (const sort of ["updatedAt", "sourceType", "status", "latencyMs"] as const) {
      for (const dir of ["asc", "desc"] as const) {
        const sorted = [...matches].sort((a, b) => {
          const [x, y] = [keyOf[sort](a), keyOf[sort](b)];
          const c = x === y ? (a.id < b.id ? -1 : 1) : x < y ? -1 : 1;
          return dir === "asc" ? c : -c;
        });
        // (page 25: past the first statuses' matches when sorted by status)
        for (const page of [1, 7, 25]) {
          const got = await listWithCap(db, tenantId, { ...base, q: "jira", sort, dir, page }, { cap: 2_000 });
          const label = `${sort} ${dir} page ${page}`;
          expect(got.totalCapped, label).toBe(true);
          expect(got.rows.map((r) => r.id), label).toEqual(sorted.slice((page - 1) * 25, page * 25).map((r) => r.id));
          // and the page after it by its cursor (the type's walks seek past it on the rest of the key)
          const next = await listWithCap(db, tenantId, { ...base, q: "jira", sort, dir, page: page + 1, after: parseCursor(got.nextCursor!, sort, dir) }, { cap: 2_000 });
          expect(next.rows.map((r) => r.id), `${label} → next`).toEqual(sorted.slice(page * 25, (page + 1) * 25).map((r) => r.id));
        }
      }
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
