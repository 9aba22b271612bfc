/**
 * Integration: one onboarding attempt over ONE connection (openAttempt) on the real PostgreSQL
 * (DATABASE_URL, the sandbox schema) and the real MariaDB (127.0.0.1:3306), each reached through
 * the recording proxy (tests/connectors/recording-proxy.ts), which counts the TCP connections
 * the server got and records every statement it received. The session is closed on success, on
 * failure, and at once when the attempt's signal aborts.
 */
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ctxFor, withUrl } from "../../../tests/connectors/native/ctx";
import { startRecordingProxy, type RecordingProxy } from "../../../tests/connectors/recording-proxy";
import { testDatabaseUrl } from "../../../tests/helpers/db";
import { ensurePostgresSandbox } from "../sandbox/postgres-sandbox";
import { splitMariadbLimits } from "../safe-mode/sql-guard";
import { collapsePlaceholders, mysqlCatalogQueries, postgresCatalogQueries } from "../safe-mode/sql-statements";
import type { AttemptSource, ConnectorContext, ConnectorFailure, ConnectorResult } from "../types";
import { jdbcAdapter } from "./jdbc";
import { postgresAdapter } from "./postgres";

const tag = randomBytes(4).toString("hex");
const failureOf = (r: { ok: boolean; error?: ConnectorFailure }) => (r.ok ? undefined : r.error);
const opened = (r: ConnectorResult<AttemptSource>): AttemptSource => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const closedAll = (proxy: RecordingProxy) => vi.waitFor(() => expect(proxy.open()).toBe(0));

describe("PostgreSQL: one connection per attempt", () => {
  let adminUrl: string;
  let sandboxUrl: string;
  let proxy: RecordingProxy;
  const slow = `aam_attempt_slow_${tag}`;
  const probe = `aam_attempt_probe_${tag}`;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  const via = (url: string) => withUrl(url, { host: "127.0.0.1", port: proxy.port });

  beforeAll(async () => {
    adminUrl = testDatabaseUrl();
    sandboxUrl = (await ensurePostgresSandbox(adminUrl)).url;
    await admin(async (c) => {
      await c.query(`CREATE VIEW public.${slow} AS SELECT pg_sleep(30)::text AS x`);
      // a write hidden in a function behind a view: only the READ ONLY transaction can stop it
      await c.query(`CREATE TABLE public.${probe} (id int)`);
      await c.query(`CREATE FUNCTION public.${probe}_w() RETURNS int LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.${probe} VALUES (99); RETURN 1; END $$`);
      await c.query(`CREATE VIEW public.${probe}_v AS SELECT public.${probe}_w() AS x`);
    });
    proxy = await startRecordingProxy({ protocol: "postgres", upstream: { host: "127.0.0.1", port: Number(new URL(adminUrl).port || 5432) } });
  });
  afterAll(async () => {
    await proxy?.close();
    await admin(async (c) => {
      // the aborted read's statement runs on until its timeout: stop it so the view can go
      await c.query("SELECT pg_catalog.pg_cancel_backend(pid) FROM pg_catalog.pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE $1", [`%${slow}%`]);
      await c.query(`DROP VIEW IF EXISTS public.${slow}, public.${probe}_v`);
      await c.query(`DROP FUNCTION IF EXISTS public.${probe}_w()`);
      await c.query(`DROP TABLE IF EXISTS public.${probe}`);
    });
  });

  it("health, discovery and sample share one connection; the sample does not discover again; close ends it", async () => {
    const before = proxy.connections();
    const mark = proxy.statements.length;
    const ctx = ctxFor("postgres", { secret: { dsn: via(sandboxUrl) }, config: { schemas: ["sandbox"] }, resourceIds: ["sandbox"] });
    const s = opened(await postgresAdapter.openAttempt!(ctx));
    const h = await s.healthCheck();
    expect(h.ok && h.value.detail).toMatch(/^PostgreSQL \d+/);
    const d = await s.discover();
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.streams.map((x) => x.name)).toEqual(["sandbox.customers", "sandbox.orders", "sandbox.tickets"]);
    expect(d.value.resources).toEqual([{ id: "sandbox", kind: "table or schema", found: true }]);
    // no streams handed over: the session reads what its discovery found
    const r = await s.sample({ streams: [] });
    expect(r.ok && r.value.length).toBe(20);
    await s.close();
    await s.close(); // idempotent
    expect(proxy.connections() - before).toBe(1);
    await closedAll(proxy);

    const received = proxy.statements.slice(mark);
    const q = postgresCatalogQueries(["sandbox"]);
    // tables and columns in one read, once; the two-query form is not used
    expect(received.filter((x) => x.sql.includes(q.catalogSql))).toHaveLength(1);
    expect(received.some((x) => x.sql.includes(q.tablesSql) || x.sql.includes(q.columnsSql))).toBe(false);
    // every read runs in its own READ ONLY transaction with its timeouts, rolled back: health,
    // catalog, 3 samples; each read's ROLLBACK is followed by the next one's BEGIN (opened ahead:
    // the last one, taken by no read, ends with the connection)
    const shape = received.map((x) => (x.kind === "P" ? "read" : x.sql.replace(/= \d+$/, "= n")));
    const begin = ["BEGIN READ ONLY", "SET LOCAL statement_timeout = n", "SET LOCAL idle_in_transaction_session_timeout = n"];
    expect(shape).toEqual([...Array.from({ length: 5 }, () => [...begin, "read", "ROLLBACK"]).flat(), ...begin]);
  });

  it("never inventories the server's own schemas, even when the config names them (pg_catalog: roles, settings, sessions)", async () => {
    const ctx = ctxFor("postgres", { secret: { dsn: via(sandboxUrl) }, config: { schemas: ["pg_catalog", "information_schema", "sandbox"] }, resourceIds: [] });
    const s = opened(await postgresAdapter.openAttempt!(ctx));
    const d = await s.discover();
    await s.close();
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.streams.map((x) => x.name)).toEqual(["sandbox.customers", "sandbox.orders", "sandbox.tickets"]);
  });

  it("closes on failure: a refused login leaves no connection; a failed read leaves the session to close", async () => {
    const bad = await postgresAdapter.openAttempt!(ctxFor("postgres", { secret: { dsn: via(withUrl(adminUrl, { user: "aam_no_such_role", password: "wrong-password" })) } }));
    expect(failureOf(bad)?.kind).toBe("auth");
    await closedAll(proxy);

    const s = opened(await postgresAdapter.openAttempt!(ctxFor("postgres", { secret: { dsn: via(sandboxUrl) } })));
    const missing = await s.sample({ streams: [{ name: "sandbox.aam_no_such_table_zz", fields: [] }] });
    expect(failureOf(missing)).toEqual({ kind: "other", message: "PostgreSQL error (SQLSTATE 42P01 undefined_table)" });
    // the same connection still answers after a failed read (it was rolled back)
    expect((await s.healthCheck()).ok).toBe(true);
    await s.close();
    await closedAll(proxy);
  });

  it("an aborted signal closes the connection at once, whatever is in flight; aborted before opening, none is made", async () => {
    const abort = new AbortController();
    const ctx: ConnectorContext = { ...ctxFor("postgres", { secret: { dsn: via(adminUrl) }, policy: { requestTimeoutMs: 60_000 } }), signal: abort.signal };
    const s = opened(await postgresAdapter.openAttempt!(ctx));
    expect((await s.healthCheck()).ok).toBe(true);
    const mark = proxy.statements.length;
    const pending = s.sample({ streams: [{ name: `public.${slow}`, fields: [] }] });
    await vi.waitFor(() => expect(proxy.statements.slice(mark).some((x) => x.sql.includes(slow))).toBe(true));
    abort.abort();
    // not the statement timeout (60 s) nor the view's 30 s: the socket went away
    expect(failureOf(await pending)?.kind).toBe("network");
    await closedAll(proxy);
    await s.close();

    const before = proxy.connections();
    const gone = await postgresAdapter.openAttempt!({ ...ctxFor("postgres", { secret: { dsn: via(sandboxUrl) } }), signal: AbortSignal.abort() });
    expect(gone.ok).toBe(false);
    expect(proxy.connections()).toBe(before);
  });

  it("a write hidden behind a view is stopped in a transaction opened ahead by the previous read", async () => {
    const s = opened(await postgresAdapter.openAttempt!(ctxFor("postgres", { secret: { dsn: via(adminUrl) } })));
    expect((await s.healthCheck()).ok).toBe(true); // opens the next read's transaction behind its ROLLBACK
    const r = await s.sample({ streams: [{ name: `public.${probe}`, fields: [] }, { name: `public.${probe}_v`, fields: [] }] });
    expect(failureOf(r)).toMatchObject({ kind: "safe_mode", message: expect.stringContaining("25006") });
    await s.close();
    expect(await admin(async (c) => Number((await c.query(`SELECT count(*) AS n FROM public.${probe}`)).rows[0].n))).toBe(0);
  });

  it("the standalone calls still work one by one, each on its own connection", async () => {
    const before = proxy.connections();
    const ctx = ctxFor("postgres", { secret: { dsn: via(sandboxUrl) }, resourceIds: ["sandbox.orders"] });
    expect((await postgresAdapter.healthCheck(ctx)).ok).toBe(true);
    const d = await postgresAdapter.discover(ctx);
    expect(d.ok && d.value.streams.map((x) => x.name)).toEqual(["sandbox.orders"]);
    const r = await postgresAdapter.sample(ctx, { streams: [] });
    expect(r.ok && r.value.length).toBe(20);
    expect(proxy.connections() - before).toBe(3);
    await closedAll(proxy);
  });
});

describe("MariaDB (jdbc): one connection per attempt", () => {
  let proxy: RecordingProxy;
  const table = `aam_attempt_${tag}`;
  const slow = `${table}_slow`;
  const writer = `${table}_w`;
  const root = async <T>(fn: (c: mysql.Connection) => Promise<T>) => {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", password: "", database: "test" });
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  const url = () => `jdbc:mariadb://127.0.0.1:${proxy.port}/test?user=root`;

  beforeAll(async () => {
    await root(async (c) => {
      await c.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)`);
      await c.query(`INSERT INTO \`${table}\` VALUES ?`, [Array.from({ length: 25 }, (_, i) => [i + 1, `row ${i + 1}`])]);
      await c.query(`CREATE VIEW \`${slow}\` AS SELECT SLEEP(30) AS x`);
      // a write hidden in a function behind a view: only the READ ONLY transaction can stop it
      await c.query(`CREATE FUNCTION \`${writer}\`() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO \`${table}\` VALUES (999, 'planted'); RETURN 1; END`);
      await c.query(`CREATE VIEW \`${writer}_v\` AS SELECT \`${writer}\`() AS x`);
    });
    proxy = await startRecordingProxy({ protocol: "mysql", upstream: { host: "127.0.0.1", port: 3306 } });
  });
  afterAll(async () => {
    await proxy?.close();
    await root(async (c) => {
      // the aborted read's statement runs on until its timeout: stop it so the view can go
      const [running] = await c.query("SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND info LIKE ?", [`%${slow}%`]);
      for (const { id } of running as { id: number }[]) await c.query(`KILL QUERY ${Number(id)}`);
      await c.query(`DROP VIEW IF EXISTS \`${slow}\`, \`${writer}_v\``);
      await c.query(`DROP FUNCTION IF EXISTS \`${writer}\``);
      await c.query(`DROP TABLE IF EXISTS \`${table}\``);
    });
  });

  it("health, discovery and sample share one connection; READ ONLY per read; the sample does not discover again", async () => {
    const before = proxy.connections();
    const mark = proxy.statements.length;
    const s = opened(await jdbcAdapter.openAttempt!(ctxFor("jdbc", { config: { url: url() }, resourceIds: [table] })));
    const h = await s.healthCheck();
    expect(h.ok && h.value.detail).toMatch(/MariaDB/i);
    const d = await s.discover();
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.streams).toEqual([{ name: `test.${table}`, fields: [{ name: "id", type: "int", nullable: false }, { name: "name", type: "varchar", nullable: false }] }]);
    const r = await s.sample({ streams: [] });
    expect(r.ok && r.value.map((x) => x.data.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await s.close();
    expect(proxy.connections() - before).toBe(1);
    await closedAll(proxy);

    const received = proxy.statements.slice(mark);
    const q = mysqlCatalogQueries(["test"]);
    // each read carries its own timeout and row limit (MariaDB's SET STATEMENT … FOR, generated)
    const limited = received.filter((x) => x.kind === "COM_STMT_PREPARE").map((x) => splitMariadbLimits(x.sql));
    expect(limited.every(Boolean)).toBe(true);
    // the policy's timeout (in seconds) on every read; rows: health 1, the catalog its cap, the sample 20
    const timeoutS = ctxFor("jdbc", {}).policy.requestTimeoutMs / 1000;
    expect(limited.map((x) => [x!.timeoutS, x!.maxRows])).toEqual([
      [timeoutS, 1],
      [timeoutS, 30_001],
      [timeoutS, 20],
    ]);
    const prepared = limited.map((x) => collapsePlaceholders(x!.statement));
    expect(prepared.filter((x) => x === collapsePlaceholders(q.catalogSql))).toHaveLength(1);
    expect(prepared).not.toContain(collapsePlaceholders(q.tablesSql));
    // the session default and the attempt's one READ ONLY transaction first, then one statement per read
    const shape = received.map((x) => (x.kind === "COM_QUERY" ? x.sql.replace(/= [\d.]+/g, "= n") : "prepare"));
    expect(shape).toEqual(["SET SESSION TRANSACTION READ ONLY", "START TRANSACTION READ ONLY", "prepare", "prepare", "prepare"]);
    expect(shape).not.toContain("SELECT VERSION() AS v"); // the flavour comes from the handshake
  });

  it("never inventories the server's own schemas, even when the config names them (mysql, sys, performance_schema)", async () => {
    for (const schemas of [["mysql", "sys", "performance_schema", "information_schema"], ["MySQL"]]) {
      const s = opened(await jdbcAdapter.openAttempt!(ctxFor("jdbc", { config: { url: url(), schemas }, resourceIds: [] })));
      const d = await s.discover();
      await s.close();
      if (!d.ok) throw new Error(d.error.message);
      expect(d.value.streams, schemas.join()).toEqual([]);
    }
  });

  it("closes on failure, and at once when the signal aborts a read in flight", async () => {
    const bad = await jdbcAdapter.openAttempt!(ctxFor("jdbc", { config: { url: url() }, secret: { password: "definitely-wrong" } }));
    expect(failureOf(bad)?.kind).toBe("auth");
    await closedAll(proxy);

    const abort = new AbortController();
    const ctx: ConnectorContext = { ...ctxFor("jdbc", { config: { url: url() }, policy: { requestTimeoutMs: 60_000 } }), signal: abort.signal };
    const s = opened(await jdbcAdapter.openAttempt!(ctx));
    const missing = await s.sample({ streams: [{ name: "test.aam_no_such_table_zz", fields: [] }] });
    expect(failureOf(missing)).toEqual({ kind: "other", message: "MySQL/MariaDB error (errno 1146 ER_NO_SUCH_TABLE)" });
    // the failure ended the attempt's transaction: a read after it runs in its own, rolled back
    const after = proxy.statements.length;
    expect((await s.healthCheck()).ok).toBe(true);
    expect(proxy.statements.slice(after).map((x) => (x.kind === "COM_QUERY" ? x.sql.replace(/= [\d.]+/g, "= n") : "prepare"))).toEqual([
      "START TRANSACTION READ ONLY",
      "prepare",
      "ROLLBACK",
    ]);
    const mark = proxy.statements.length;
    const pending = s.sample({ streams: [{ name: `test.${slow}`, fields: [] }] });
    await vi.waitFor(() => expect(proxy.statements.slice(mark).some((x) => x.sql.includes(slow))).toBe(true));
    abort.abort();
    expect(failureOf(await pending)?.kind).toBe("network");
    await closedAll(proxy);
    await s.close();
  });

  it("a write hidden behind a view is stopped by the attempt's READ ONLY transaction, after other reads ran in it", async () => {
    const s = opened(await jdbcAdapter.openAttempt!(ctxFor("jdbc", { config: { url: url() }, resourceIds: [table] })));
    expect((await s.healthCheck()).ok).toBe(true);
    expect((await s.discover()).ok).toBe(true);
    const r = await s.sample({ streams: [{ name: `test.${table}`, fields: [] }, { name: `test.${writer}_v`, fields: [] }] });
    expect(failureOf(r)).toMatchObject({ kind: "safe_mode", message: expect.stringContaining("1792") });
    await s.close();
    expect(await root(async (c) => ((await c.query(`SELECT count(*) AS n FROM \`${table}\``))[0] as { n: number }[])[0]!.n)).toBe(25);
  });

  it("an engine jdbc does not speak is unsupported before any connection", async () => {
    const r = await jdbcAdapter.openAttempt!(ctxFor("jdbc", { config: { url: "jdbc:sqlserver://db.example.com:1433;databaseName=x" } }));
    expect(failureOf(r)?.kind).toBe("unsupported");
  });
});
