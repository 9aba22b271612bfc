import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations, migrationsDir } from "../../server/db/migrate";
import { resourceKey } from "../../server/onboarding/natural-key";
import { createScratchDatabase } from "../helpers/db";

describe("prisma/migrations on real PostgreSQL", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    db = createDb(scratch.url, 3);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await scratch?.drop();
  });

  it("builds the whole schema from an empty database, and a second run applies nothing", async () => {
    const first = await applyMigrations(scratch.url);
    expect(first.applied.length).toBe(first.total);
    expect(first.total).toBeGreaterThan(0);
    const second = await applyMigrations(scratch.url);
    expect(second.applied).toEqual([]);

    const c = new pg.Client({ connectionString: scratch.url });
    await c.connect();
    const tables = await c.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    const indexes = await c.query<{ indexname: string; indexdef: string }>("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'connections'");
    await c.end();
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(["tenants", "api_keys", "connections", "connection_events", "credentials", "settings", "users", "accounts", "sessions", "verification_tokens", "_prisma_migrations"]),
    );
    const natural = indexes.rows.find((r) => r.indexname === "connections_natural_key");
    expect(natural?.indexdef).toMatch(/UNIQUE INDEX .*\(tenant_id, namespace, source_type, resource_key\)/);
    // the list walks one index per status; the funnel reads its counts table, not an index on connections
    expect(indexes.rows.find((r) => r.indexname === "connections_list_updated_at_idx")?.indexdef).toMatch(/\(tenant_id, namespace, status, updated_at, id, source_type, risk_level\)/);
    // …so the two indexes they replaced are gone (20261202000000_drop_unused_connection_indexes)
    expect(indexes.rows.filter((r) => /\(tenant_id, namespace, (status, reachable|updated_at)\)/.test(r.indexdef))).toEqual([]);
  });

  it("the unique idempotency index rejects a duplicate natural key", async () => {
    const tenant = await db.tenant.create({ data: { slug: "idem", name: "Idem" } });
    const row = {
      tenantId: tenant.id,
      namespace: "autonomy",
      sourceType: "salesforce",
      resourceIds: ["org_1", "org_2"],
      resourceKey: resourceKey(["org_2", "org_1"]),
      scopesMode: "safe_readonly",
      credentialLocator: "env:SF_TOKEN",
      riskLevel: "low" as const,
      evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
      owner: { user: "a@b.c", confidence: 0.9, why: "oauth_consenter" },
    };
    await db.connection.create({ data: row });
    await expect(db.connection.create({ data: { ...row, resourceKey: resourceKey(["org_1", "org_2", "org_1"]) } })).rejects.toMatchObject({ code: "P2002" });
    // another namespace or source type is another connection
    await expect(db.connection.create({ data: { ...row, namespace: "other" } })).resolves.toBeTruthy();
    expect(await db.connection.count({ where: { tenantId: tenant.id } })).toBe(2);
  });

  it("refuses a migration edited after it was applied", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aam-mig-"));
    fs.cpSync(migrationsDir(), tmp, { recursive: true });
    const first = fs.readdirSync(tmp).filter((d) => fs.statSync(path.join(tmp, d)).isDirectory()).sort()[0]!;
    fs.appendFileSync(path.join(tmp, first, "migration.sql"), "\n-- edited\n");
    await expect(applyMigrations(scratch.url, tmp)).rejects.toThrow(/was changed after it was applied/);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
