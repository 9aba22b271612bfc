/**
 * SANDBOX (fresh machines and tests only): a `sandbox` schema with three small tables and a
 * read-only login role, created idempotently in the database `adminUrl` points at. The tables
 * hold more rows than the 20-record Safe Mode cap so the cap is visible in a first sync.
 * The role's password is a fixed, public sandbox value: it guards nothing but sample data.
 */
import pg from "pg";

export const SANDBOX_ROLE = "aam_sandbox_ro";
const SANDBOX_PASSWORD = "aam-sandbox-read-only";
const COUNTS = { customers: 50, orders: 80, tickets: 40 };

const SETUP = `
CREATE SCHEMA IF NOT EXISTS sandbox;
CREATE TABLE IF NOT EXISTS sandbox.customers (
  id integer PRIMARY KEY, name text NOT NULL, email text NOT NULL, country text, created_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS sandbox.orders (
  id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES sandbox.customers(id), status text NOT NULL,
  total numeric(10,2) NOT NULL, placed_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS sandbox.tickets (
  id integer PRIMARY KEY, customer_id integer REFERENCES sandbox.customers(id), subject text NOT NULL,
  priority text NOT NULL, open boolean NOT NULL DEFAULT true);
INSERT INTO sandbox.customers
  SELECT i, 'Customer ' || i, 'customer' || i || '@example.com', (ARRAY['GB','US','NL','FR','DE'])[1 + i % 5],
         timestamptz '2024-01-01' + i * interval '3 days'
  FROM generate_series(1, ${COUNTS.customers}) i ON CONFLICT (id) DO NOTHING;
INSERT INTO sandbox.orders
  SELECT i, 1 + i % ${COUNTS.customers}, (ARRAY['paid','shipped','refunded','pending'])[1 + i % 4],
         round((5 + (i * 37) % 900)::numeric, 2), timestamptz '2025-01-01' + i * interval '5 hours'
  FROM generate_series(1, ${COUNTS.orders}) i ON CONFLICT (id) DO NOTHING;
INSERT INTO sandbox.tickets
  SELECT i, 1 + (i * 7) % ${COUNTS.customers}, 'Ticket ' || i, (ARRAY['low','normal','high'])[1 + i % 3], i % 4 <> 0
  FROM generate_series(1, ${COUNTS.tickets}) i ON CONFLICT (id) DO NOTHING;
`;

/** Creates or repairs the sandbox; returns a URL that logs in as the read-only role. */
export async function ensurePostgresSandbox(adminUrl: string): Promise<{ url: string }> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query("BEGIN");
    // Concurrent callers (parallel test files) on one database take turns.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('aam_postgres_sandbox'))");
    await client.query(SETUP);
    await client.query("COMMIT");
    // Roles are cluster-wide: another database's setup may create it at the same moment.
    try {
      await client.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${SANDBOX_ROLE}') THEN
          CREATE ROLE ${SANDBOX_ROLE} LOGIN PASSWORD '${SANDBOX_PASSWORD}';
        END IF; END $$`);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== "42710" && code !== "23505") throw e;
    }
    const db = (await client.query<{ db: string }>("SELECT current_database() AS db")).rows[0]!.db;
    for (const sql of [
      `ALTER ROLE ${SANDBOX_ROLE} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${SANDBOX_PASSWORD}'`,
      `ALTER ROLE ${SANDBOX_ROLE} SET default_transaction_read_only = on`,
      `GRANT CONNECT ON DATABASE "${db.replace(/"/g, '""')}" TO ${SANDBOX_ROLE}`,
      `GRANT USAGE ON SCHEMA sandbox TO ${SANDBOX_ROLE}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA sandbox TO ${SANDBOX_ROLE}`,
    ]) {
      await retryOnConcurrentUpdate(() => client.query(sql));
    }
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
  const u = new URL(adminUrl);
  u.username = SANDBOX_ROLE;
  u.password = SANDBOX_PASSWORD;
  return { url: u.toString() };
}

/** ALTER ROLE / GRANT from two sessions at once can fail with "tuple concurrently updated". */
async function retryOnConcurrentUpdate<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 5 || !/concurrently updated/.test(String((e as Error).message))) throw e;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
}
