/**
 * Which blocked connections a new destination rule covers (server/onboarding/manage-destinations.ts
 * connectionsCoveredBy), against the real PostgreSQL with the resolver counted: a name or wildcard
 * rule decides by name — no lookup at all — and a rule over address ranges resolves each distinct
 * blocked host once, however many connections wait on it (one lookup per connection, in turn,
 * kept the admin's request open for minutes behind a slow resolver).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Db } from "../../server/db/client";
import { createTestTenant, testDb } from "../helpers/db";

const DNS: Record<string, string[]> = { "db1.corp.example": ["10.20.0.1"], "db2.corp.example": ["10.20.0.2"], "elsewhere.corp.example": ["10.99.0.1"] };
const looked: string[] = [];
vi.mock("node:dns/promises", async (orig) => {
  const real = await orig<typeof import("node:dns/promises")>();
  const lookup = async (host: string) => {
    looked.push(host);
    const a = DNS[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return a.map((address) => ({ address, family: 4 }));
  };
  return { ...real, lookup, default: { ...real, lookup } };
});

const { connectionsCoveredBy, validateDestination } = await import("../../server/onboarding/manage-destinations");

let db: Db;
beforeAll(() => {
  db = testDb();
});
afterAll(async () => {
  await db?.$disconnect();
});

/** `n` connections of `tenantId` blocked on host:port, each its own resource. */
async function blocked(tenantId: string, n: number, host: string, port: number, sourceType = "postgres"): Promise<void> {
  const tag = `${host}-${port}`;
  await db.$executeRawUnsafe(
    `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, intent_hash, scopes_mode,
       credential_locator, risk_level, evidence, owner, blocked_destination, updated_at)
     SELECT gen_random_uuid(), $1::uuid, 'autonomy', $5, ARRAY[$6::text || '-' || g], $6::text || '-' || g, 'NETWORK_BLOCKED', 'Destination not approved', 'h', 'safe_readonly',
       'env:X', 'low', '{}'::jsonb, '{}'::jsonb, jsonb_build_object('kind', 'host', 'host', $2::text, 'port', $3::int), now()
     FROM generate_series(1, $4::int) g`,
    tenantId,
    host,
    port,
    n,
    sourceType,
    tag,
  );
}

const rule = (pattern: string, ports = "5432") => {
  const v = validateDestination({ kind: "host", pattern, ports, sourceTypes: ["postgres"], note: "" }, "/tmp/aam-cover-test-data");
  if (!v.ok) throw new Error(JSON.stringify(v.error));
  return v.value;
};

describe("the connections a new rule covers", () => {
  it("a name or wildcard rule decides by name, without a single lookup", async () => {
    const tenantId = await createTestTenant(db, "cover-name");
    await blocked(tenantId, 300, "db1.corp.example", 5432);
    await blocked(tenantId, 200, "db2.corp.example", 5432);
    await blocked(tenantId, 50, "db1.corp.example", 6432); // another port
    await blocked(tenantId, 40, "db1.corp.example", 5432, "mysql"); // another source type
    looked.length = 0;
    expect(await connectionsCoveredBy({ db, dataDir: "/tmp/aam-cover-test-data" }, tenantId, rule("*.corp.example"))).toHaveLength(500);
    expect(await connectionsCoveredBy({ db, dataDir: "/tmp/aam-cover-test-data" }, tenantId, rule("db2.corp.example"))).toHaveLength(200);
    expect(looked).toEqual([]);
  });

  it("a rule over an address range resolves each distinct blocked host once", async () => {
    const tenantId = await createTestTenant(db, "cover-cidr");
    await blocked(tenantId, 300, "db1.corp.example", 5432);
    await blocked(tenantId, 200, "db2.corp.example", 5432);
    await blocked(tenantId, 100, "elsewhere.corp.example", 5432); // resolves outside the range
    await blocked(tenantId, 10, "gone.corp.example", 5432); // does not resolve: resumed, its attempt says why (as before)
    await blocked(tenantId, 20, "10.20.0.9", 5432); // an address: no lookup
    looked.length = 0;
    const covered = await connectionsCoveredBy({ db, dataDir: "/tmp/aam-cover-test-data" }, tenantId, rule("10.20.0.0/16"));
    expect(covered).toHaveLength(530);
    expect(new Set(covered).size).toBe(530);
    expect(looked.sort()).toEqual(["db1.corp.example", "db2.corp.example", "elsewhere.corp.example", "gone.corp.example"]);
  });
});
