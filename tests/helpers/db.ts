/**
 * Integration-test helpers: the real PostgreSQL given by the test runner (scripts/test.ts sets
 * DATABASE_URL to a fresh, migrated database and TEST_PG_SERVER_URL to its server).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { getEnv } from "../../server/env";

export function testDatabaseUrl(): string {
  const url = getEnv().DATABASE_URL;
  if (!url) throw new Error("Integration tests need DATABASE_URL: run them with `npm test`.");
  return url;
}

export function testServerUrl(): string {
  const server = process.env.TEST_PG_SERVER_URL;
  return server ? new URL(server).toString() : testDatabaseUrl();
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A brand-new, empty database on the test server; dropped by the returned function. */
export async function createScratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `aam_scratch_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: withDatabase(testServerUrl(), "postgres") });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    url: withDatabase(testServerUrl(), name),
    drop: async () => {
      const c = new pg.Client({ connectionString: withDatabase(testServerUrl(), "postgres") });
      await c.connect();
      // a pool that is still closing (a stopped worker's queue pool lets go of its error handlers
      // before its last clients end) would get its clients terminated without a listener — an
      // uncaught error in the test run: give them up to 5 s to leave, then force what remains
      for (let i = 0; i < 50; i++) {
        const r = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
        if (r.rows[0]!.n === 0) break;
        await new Promise((done) => setTimeout(done, 100));
      }
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export function testDb(): Db {
  return createDb(testDatabaseUrl(), 5);
}

/** A tenant of its own for each test, so tests never see each other's rows. */
export async function createTestTenant(db: Db, label = "t"): Promise<string> {
  const t = await db.tenant.create({ data: { slug: `${label}-${randomBytes(6).toString("hex")}`, name: `Test ${label}` }, select: { id: true } });
  return t.id;
}

/**
 * A secret of the tenant's own (`AAM_SECRET_<TENANT>__<NAME>`, tenant-scope.ts): what a test uses
 * for a host the tenant's admin approved, where an install-wide `AAM_SECRET_<NAME>` goes only to
 * vendor hosts outside the default tenant. Sets the variable; returns its `env:` locator.
 */
export async function ownSecret(db: Db, tenantId: string, name: string, value: string): Promise<string> {
  const { envKeyForSlug } = await import("../../server/credentials/tenant-scope");
  const { slug } = await db.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: { slug: true } });
  const variable = `AAM_SECRET_${envKeyForSlug(slug)}__${name}`;
  process.env[variable] = value;
  return `env:${variable}`;
}

/** A brand-new database with the migrations applied and a client of `poolSize` connections; `drop` ends both. */
export async function createMigratedScratch(poolSize = 5): Promise<{ url: string; db: Db; drop: () => Promise<void> }> {
  const scratch = await createScratchDatabase();
  await applyMigrations(scratch.url);
  const db = createDb(scratch.url, poolSize);
  return {
    url: scratch.url,
    db,
    drop: async () => {
      await db.$disconnect();
      await scratch.drop();
    },
  };
}
