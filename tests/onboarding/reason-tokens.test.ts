/**
 * The status-prefixed trigrams of a connection's reason (the list's free-text search within a
 * status, migration 20261201110000) are kept by a trigger that migration 20261204090000 made
 * cheaper: one plain expression instead of a call to the SQL function, and nothing recomputed
 * when an update keeps the status and the reason. Here the trigger's tokens are compared with
 * the reference function `connection_reason_tokens` on generated reasons (words, digits, case,
 * punctuation only, empty, accented and non-Latin letters, long text), through inserts, updates
 * of the status alone, of the reason alone, of both, of neither, and the upsert of the
 * admission, and the search that reads them still finds each row.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/client";
import { listConnections } from "../../server/onboarding/connection-query";
import { upsertIntent } from "../../server/onboarding/connection-repository";
import { createTestTenant, testDb } from "../helpers/db";
import { rng } from "../helpers/rng";

let db: Db;
let tenantId: string;

const STATUSES = ["PENDING", "ACTIVE", "AWAITING_CREDENTIALS", "NETWORK_BLOCKED", "HEALING", "ERROR"] as const;
const WORDS = ["Unexpected", "error", "during", "health", "check", "ECONNREFUSED", "127.0.0.1:5432", "Zürich", "naïve", "日本語", "Ωmega", "x", "ab", "—", "!!!", "", "  ", "a-b_c", "401", "Token", "expired", "a1b2c3"];

function reasons(n: number, seed: number): (string | null)[] {
  const r = rng(seed);
  const out: (string | null)[] = [null, "", "!!!", "—", "ab", "Queued for onboarding", "x".repeat(3_000)];
  while (out.length < n) {
    const k = 1 + Math.floor(r() * 8);
    out.push(Array.from({ length: k }, () => WORDS[Math.floor(r() * WORDS.length)]!).join(r() < 0.5 ? " " : ", "));
  }
  return out;
}

async function mismatches(): Promise<{ id: string; status: string; reason: string | null; kept: string[]; expected: string[] }[]> {
  return db.$queryRaw`
    SELECT id::text AS id, status::text AS status, status_reason AS reason, reason_tokens AS kept,
           connection_reason_tokens(status::text, status_reason) AS expected
    FROM connections WHERE tenant_id = ${tenantId}::uuid
      AND reason_tokens IS DISTINCT FROM connection_reason_tokens(status::text, status_reason)`;
}

beforeAll(async () => {
  db = testDb();
  tenantId = await createTestTenant(db, "tokens");
});
afterAll(async () => {
  await db.$disconnect();
});

describe("the reason's status-prefixed trigrams", () => {
  it("equal the reference function's after inserts and every kind of update", async () => {
    const texts = reasons(400, 7);
    const r = rng(11);
    await db.$executeRaw`
      INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, scopes_mode, credential_locator, risk_level, evidence, owner, updated_at)
      SELECT gen_random_uuid(), ${tenantId}::uuid, 'ns', 'github', ARRAY['r' || i], 'k' || i, (${STATUSES as unknown as string[]}::text[])[1 + i % 6]::"ConnectionStatus",
             (${texts}::text[])[i], 'safe_readonly', 'env:X', 'low', '{}', '{}', now()
      FROM generate_series(1, ${texts.length}::int) i`;
    expect(await mismatches()).toEqual([]);
    const count = await db.connection.count({ where: { tenantId, reasonTokens: { isEmpty: false } } });
    expect(count).toBeGreaterThan(300); // most reasons have a word of letters or digits

    for (let round = 0; round < 4; round++) {
      const ids = (await db.connection.findMany({ where: { tenantId }, select: { id: true } })).map((c) => c.id);
      for (const id of ids.filter(() => r() < 0.25)) {
        const pick = r();
        const status = STATUSES[Math.floor(r() * STATUSES.length)]!;
        const reason = texts[Math.floor(r() * texts.length)]!;
        if (pick < 0.25) await db.$executeRaw`UPDATE connections SET status = ${status}::"ConnectionStatus" WHERE id = ${id}::uuid`;
        else if (pick < 0.5) await db.$executeRaw`UPDATE connections SET status_reason = ${reason} WHERE id = ${id}::uuid`;
        else if (pick < 0.75) await db.$executeRaw`UPDATE connections SET status = ${status}::"ConnectionStatus", status_reason = ${reason} WHERE id = ${id}::uuid`;
        // both named, neither changed (the final write and the upsert always name them)
        else await db.$executeRaw`UPDATE connections SET status = status, status_reason = status_reason, updated_at = now() WHERE id = ${id}::uuid`;
      }
      expect(await mismatches()).toEqual([]);
    }
  });

  it("are kept through the admission's upsert, and the list's search finds the row by them", async () => {
    const intent = {
      namespace: "tok",
      source_type: "github",
      resource_ids: ["org/one"],
      scopes_mode: "safe_readonly" as const,
      credential_locator: "env:GITHUB_TOKEN",
      risk_level: "low" as const,
      evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-08T18:00:00Z" },
      owner: { user: "it@acme.test", confidence: 0.9, why: "test" },
    };
    const first = await upsertIntent(db, tenantId, intent);
    await db.$executeRaw`UPDATE connections SET status = 'ERROR', status_reason = 'Unexpected reply from Zürich gateway' WHERE id = ${first.id}::uuid`;
    expect(await mismatches()).toEqual([]);
    const page = await listConnections(db, tenantId, { namespace: "tok", q: "zürich gateway", status: ["ERROR"], sort: "updatedAt", dir: "desc", page: 1, pageSize: 25 });
    expect(page.rows.map((c) => c.id)).toEqual([first.id]);
    // a changed intent moves it back to PENDING with the queue's reason: its tokens follow
    await upsertIntent(db, tenantId, { ...intent, config: { api_base: "https://api.github.com" } });
    const row = await db.connection.findUniqueOrThrow({ where: { id: first.id }, select: { status: true, reasonTokens: true } });
    expect(row.status).toBe("PENDING");
    expect(row.reasonTokens).toContain("PENDING:que");
    expect(row.reasonTokens.some((t) => t.startsWith("ERROR:"))).toBe(false);
    expect(await mismatches()).toEqual([]);
  });
});
