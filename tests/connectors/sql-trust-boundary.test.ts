/**
 * Integration against the REAL PostgreSQL (DATABASE_URL) and MariaDB (127.0.0.1:3306) through a
 * recording TCP proxy (tests/connectors/recording-proxy.ts):
 *  - no intent field reaches SQL text: hostile config (the old `sample_query`, schema names with
 *    quotes and statements) produces only the generated statement shapes, as the server received them;
 *  - the trust boundary: an unapproved host:port receives no TCP connection (`not_approved`), and
 *    approving that host:port lets the same intent proceed;
 *  - TLS by default off loopback: against a non-loopback address the driver asks for TLS before
 *    it sends any credential, whatever `sslmode` says.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jdbcAdapter } from "../../server/connectors/drivers/jdbc";
import { postgresAdapter } from "../../server/connectors/drivers/postgres";
import type { DestinationGrant } from "../../server/connectors/safe-mode/destinations";
import { checkMysqlStatement, checkPostgresStatement, formatStreamName, splitMariadbLimits } from "../../server/connectors/safe-mode/sql-guard";
import { MYSQL_HEALTH_SQL, PG_HEALTH_SQL, collapsePlaceholders, mysqlCatalogQueries, postgresCatalogQueries } from "../../server/connectors/safe-mode/sql-statements";
import type { ConnectorFailure } from "../../server/connectors/types";
import { testDatabaseUrl } from "../helpers/db";
import { ctxFor, withUrl } from "./native/ctx";
import { startRecordingProxy, type RecordingProxy } from "./recording-proxy";

const failureOf = (r: { ok: boolean; error?: ConnectorFailure }) => (r.ok ? undefined : r.error);
const grant = (pattern: string, ports: number[]): DestinationGrant => ({
  catalogHosts: [],
  hosts: [{ pattern, ports, sourceTypes: [], origin: "approved" }],
  folders: [],
  forbiddenFolders: [],
});

const tag = randomBytes(3).toString("hex");
const HOSTILE_SCHEMA = `x'); DROP TABLE t; -- ${tag}`;
const HOSTILE_SQL = `SELECT pg_terminate_backend(pg_backend_pid()) -- ${tag}`;
const HOSTILE_MYSQL_SQL = `DELETE FROM t -- ${tag}`;

/** A listener that only counts TCP connections. */
async function countingListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const srv = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { port: (srv.address() as net.AddressInfo).port, connections: () => n, close: () => new Promise((r) => srv.close(() => r())) };
}

/** Unquotes `"a""b"."c"` / `` `a``b`.`c` `` into [schema, table]; undefined when not exactly that. */
function unquotePair(text: string, q: '"' | "`"): [string, string] | undefined {
  const parts: string[] = [];
  let i = 0;
  for (const sep of [".", ""]) {
    if (text[i] !== q) return undefined;
    let j = i + 1;
    let buf = "";
    for (;;) {
      if (j >= text.length) return undefined;
      if (text[j] === q && text[j + 1] === q) {
        buf += q;
        j += 2;
      } else if (text[j] === q) break;
      else buf += text[j++];
    }
    parts.push(buf);
    i = j + 1;
    if (sep && text[i++] !== sep) return undefined;
  }
  return i === text.length ? [parts[0]!, parts[1]!] : undefined;
}

describe("PostgreSQL: what the server received", () => {
  let adminUrl: string;
  let proxy: RecordingProxy;
  const schema = `aam rec"${tag}`;
  const table = `t'x"y.${tag}`;

  const admin = async <T>(fn: (c: pg.Client) => Promise<T>) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  const qi = (s: string) => `"${s.replace(/"/g, '""')}"`;

  beforeAll(async () => {
    adminUrl = testDatabaseUrl();
    await admin(async (c) => {
      await c.query(`CREATE SCHEMA ${qi(schema)}`);
      await c.query(`CREATE TABLE ${qi(schema)}.${qi(table)} (id int, "we""ird col" text)`);
      await c.query(`INSERT INTO ${qi(schema)}.${qi(table)} VALUES (1, 'a'), (2, 'b')`);
    });
    const u = new URL(adminUrl);
    proxy = await startRecordingProxy({ protocol: "postgres", upstream: { host: "127.0.0.1", port: Number(u.port || 5432) } });
  });
  afterAll(async () => {
    await proxy?.close();
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${qi(schema)} CASCADE`));
  });

  it("a hostile intent (sample_query, quoted schema names) produces only generated statements", async () => {
    const u = new URL(adminUrl);
    const ctx = ctxFor("postgres", {
      config: {
        host: "127.0.0.1",
        port: proxy.port,
        database: u.pathname.slice(1),
        user: decodeURIComponent(u.username),
        schemas: [schema, HOSTILE_SCHEMA],
        sample_query: HOSTILE_SQL,
        sample_stream: HOSTILE_SQL,
      },
      secret: { password: decodeURIComponent(u.password) },
      resourceIds: [schema],
      destinations: grant("127.0.0.1", [proxy.port]),
    });
    expect(await postgresAdapter.healthCheck(ctx)).toMatchObject({ ok: true });
    const d = await postgresAdapter.discover(ctx);
    if (!d.ok) throw new Error(d.error.message);
    const stream = formatStreamName(schema, table);
    expect(d.value.streams.map((s) => s.name)).toEqual([stream]);
    const s = await postgresAdapter.sample(ctx, { streams: [] });
    if (!s.ok) throw new Error(s.error.message);
    expect(s.value.map((r) => r.data)).toEqual([{ id: 1, 'we"ird col': "a" }, { id: 2, 'we"ird col': "b" }]);
    // a schema handed to sample (stored, or forged) can only name tables, and they are quoted
    const forged = await postgresAdapter.sample(ctx, { streams: [{ name: formatStreamName("public", `x"; DROP TABLE t; --${tag}`), fields: [] }] });
    expect(failureOf(forged)).toEqual({ kind: "other", message: "PostgreSQL error (SQLSTATE 42P01 undefined_table)" });

    const received = proxy.statements;
    expect(received.length).toBeGreaterThan(10);
    const q = postgresCatalogQueries([schema, HOSTILE_SCHEMA]);
    const fixedInner = new Set([PG_HEALTH_SQL, q.catalogSql, q.tablesSql, q.columnsSql]);
    const samples: [string, string][] = [];
    for (const r of received) {
      if (r.kind === "Q") {
        expect(r.sql, r.sql).toMatch(/^(BEGIN READ ONLY|ROLLBACK|SET LOCAL statement_timeout = \d+|SET LOCAL idle_in_transaction_session_timeout = \d+)$/);
        continue;
      }
      // the row limit wrapper, alone or inside the byte cap (rows cut on the server by their size as text)
      const m =
        /^SELECT \* FROM \(\n([\s\S]*)\n\) AS aam_safe_mode LIMIT \$(\d+)$/.exec(r.sql) ??
        /^SELECT \* FROM \(SELECT aam_rows\.\*, sum\(octet_length\(aam_rows::text\)\) OVER \(ROWS UNBOUNDED PRECEDING\) AS aam_safe_mode_bytes FROM \(SELECT \* FROM \(\n([\s\S]*)\n\) AS aam_safe_mode LIMIT \$(\d+)\) AS aam_rows\) AS aam_capped WHERE aam_safe_mode_bytes <= \$(\d+)$/.exec(r.sql);
      expect(m, r.sql).not.toBeNull();
      const inner = m![1]!;
      expect(await checkPostgresStatement(inner), inner).toMatchObject({ ok: true });
      if (fixedInner.has(inner)) continue;
      const sm = /^SELECT \* FROM (.+) LIMIT (\d+)$/.exec(inner);
      expect(sm, inner).not.toBeNull();
      const pair = unquotePair(sm![1]!, '"');
      expect(pair, inner).toBeDefined();
      samples.push(pair!);
    }
    // samples read only what the catalog listed (and the forged name, quoted: one identifier)
    expect(samples).toEqual([[schema, table], ["public", `x"; DROP TABLE t; --${tag}`]]);
    // nothing of the hostile config is in any text (the schema list travelled as a bound parameter)
    for (const r of received) {
      expect(r.sql).not.toContain(tag === "" ? "\0" : `DROP TABLE t; -- ${tag}`);
      expect(r.sql).not.toContain("pg_terminate_backend");
    }
    expect(received.some((r) => r.sql.includes(q.catalogSql))).toBe(true);
  });

  it("an unapproved host:port receives no TCP connection; approving it lets the same intent proceed", async () => {
    const l = await countingListener();
    try {
      const dsn = withUrl(adminUrl, { host: "127.0.0.1", port: l.port });
      for (const destinations of [grant("127.0.0.1", [l.port + 1]), grant("10.0.0.0/8", []), grant("db.corp.example", [l.port])]) {
        const r = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn }, destinations }));
        expect(failureOf(r)).toMatchObject({ kind: "not_approved", destination: { kind: "host", host: "127.0.0.1", port: l.port } });
        expect(failureOf(r)?.message).toBe(`Destination not approved: 127.0.0.1:${l.port} is neither one of this connector's vendor hosts nor on this tenant's approved destinations`);
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(l.connections()).toBe(0);
    } finally {
      await l.close();
    }
    const before = proxy.connections();
    const dsn = withUrl(adminUrl, { host: "127.0.0.1", port: proxy.port });
    expect(failureOf(await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn }, destinations: grant("127.0.0.1", [proxy.port + 1]) })))?.kind).toBe("not_approved");
    expect(proxy.connections()).toBe(before);
    const ok = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn }, destinations: grant("127.0.0.1", [proxy.port]) }));
    expect(ok).toMatchObject({ ok: true });
    expect(proxy.connections()).toBe(before + 1);
  });

  it("a non-loopback address gets TLS before any credential, even with sslmode=disable", async () => {
    const u = new URL(adminUrl);
    let tlsProxy: RecordingProxy;
    try {
      tlsProxy = await startRecordingProxy({ protocol: "postgres", upstream: { host: "127.0.0.1", port: Number(u.port || 5432) }, listenHost: "fd00::2" });
    } catch (e) {
      throw new Error(`this test needs the machine's non-loopback address fd00::2: ${String(e)}`);
    }
    try {
      const dsn = `postgresql://${u.username}:${u.password || "pw"}@[fd00::2]:${tlsProxy.port}${u.pathname}?sslmode=disable`;
      const r = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn }, destinations: grant("fd00::2", [tlsProxy.port]) }));
      expect(failureOf(r)).toMatchObject({ kind: "network", message: expect.stringMatching(/TLS/) });
      expect(tlsProxy.sslRequests()).toBe(1);
      expect(tlsProxy.statements).toEqual([]);
      // the same server on loopback may be plain
      const loop = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn: withUrl(adminUrl, { host: "127.0.0.1", port: proxy.port }) + "" } }));
      expect(loop).toMatchObject({ ok: true });
    } finally {
      await tlsProxy.close();
    }
  });
});

describe("MariaDB: what the server received", () => {
  let proxy: RecordingProxy;
  const table = `aam rec\`x'y"${tag}`;
  const qi = (s: string) => `\`${s.replace(/`/g, "``")}\``;
  const root = async <T>(fn: (c: mysql.Connection) => Promise<T>) => {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", password: "", database: "test" });
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    await root(async (c) => {
      await c.query(`CREATE TABLE ${qi(table)} (id INT, \`we\`\`ird\` VARCHAR(10))`);
      await c.query(`INSERT INTO ${qi(table)} VALUES (1, 'a'), (2, 'b')`);
    });
    proxy = await startRecordingProxy({ protocol: "mysql", upstream: { host: "127.0.0.1", port: 3306 } });
  });
  afterAll(async () => {
    await proxy?.close();
    await root((c) => c.query(`DROP TABLE IF EXISTS ${qi(table)}`));
  });

  it("a hostile intent produces only generated statements, parameters bound server-side", async () => {
    const ctx = ctxFor("jdbc", {
      config: { url: `jdbc:mariadb://127.0.0.1:${proxy.port}/test?user=root`, schemas: ["test", HOSTILE_SCHEMA], sample_query: HOSTILE_MYSQL_SQL },
      resourceIds: [table],
      destinations: grant("127.0.0.1", [proxy.port]),
    });
    expect(await jdbcAdapter.healthCheck(ctx)).toMatchObject({ ok: true });
    const d = await jdbcAdapter.discover(ctx);
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.streams.map((s) => s.name)).toEqual([formatStreamName("test", table)]);
    const s = await jdbcAdapter.sample(ctx, d.value);
    if (!s.ok) throw new Error(s.error.message);
    expect(s.value.map((r) => r.data)).toEqual([{ id: 1, "we`ird": "a" }, { id: 2, "we`ird": "b" }]);

    const received = proxy.statements;
    expect(received.length).toBeGreaterThan(10);
    const q = mysqlCatalogQueries(["test", HOSTILE_SCHEMA]);
    const fixed = new Set([MYSQL_HEALTH_SQL, q.catalogSql, q.tablesSql, q.columnsSql].map(collapsePlaceholders));
    const samples: [string, string][] = [];
    for (const r of received) {
      if (r.kind === "COM_QUERY") {
        expect(r.sql, r.sql).toMatch(/^(SELECT VERSION\(\) AS v|SET SESSION TRANSACTION READ ONLY|SET SESSION max_statement_time = [\d.]+|SET SESSION sql_select_limit = \d+|SET SESSION max_statement_time = [\d.]+, SESSION sql_select_limit = \d+|START TRANSACTION READ ONLY|ROLLBACK)$/);
        continue;
      }
      expect(r.kind).toBe("COM_STMT_PREPARE");
      // MariaDB: the generated per-statement limits, then a statement the guard accepts
      const limited = splitMariadbLimits(r.sql);
      expect(limited, r.sql).toBeDefined();
      const stmt = limited!.statement;
      expect(checkMysqlStatement(stmt), stmt).toMatchObject({ ok: true });
      if (fixed.has(collapsePlaceholders(stmt))) continue;
      const sm = /^SELECT \* FROM (.+) LIMIT (\d+)$/.exec(stmt);
      const pair = sm ? unquotePair(sm[1]!, "`") : undefined;
      expect(pair, r.sql).toBeDefined();
      samples.push(pair!);
    }
    expect(samples).toEqual([["test", table]]);
    for (const r of received) {
      expect(r.sql).not.toContain(`DROP TABLE t; -- ${tag}`);
      expect(r.sql).not.toContain("DELETE");
    }
    expect(received.filter((r) => r.kind === "COM_STMT_PREPARE").length).toBeGreaterThanOrEqual(3);
  });

  it("an unapproved host:port receives no TCP connection; approving it lets the same intent proceed", async () => {
    const l = await countingListener();
    try {
      const r = await jdbcAdapter.healthCheck(ctxFor("jdbc", { config: { url: `jdbc:mysql://127.0.0.1:${l.port}/test?user=root` }, destinations: grant("127.0.0.1", [3306]) }));
      expect(failureOf(r)).toMatchObject({ kind: "not_approved", destination: { host: "127.0.0.1", port: l.port } });
      await new Promise((res) => setTimeout(res, 100));
      expect(l.connections()).toBe(0);
    } finally {
      await l.close();
    }
    const before = proxy.connections();
    const url = `jdbc:mysql://127.0.0.1:${proxy.port}/test?user=root`;
    expect(failureOf(await jdbcAdapter.healthCheck(ctxFor("jdbc", { config: { url }, destinations: grant("127.0.0.1", [3306]) })))?.kind).toBe("not_approved");
    expect(proxy.connections()).toBe(before);
    expect(await jdbcAdapter.healthCheck(ctxFor("jdbc", { config: { url }, destinations: grant("127.0.0.1", [proxy.port]) }))).toMatchObject({ ok: true });
    expect(proxy.connections()).toBe(before + 1);
  });

  it("a non-loopback address gets TLS before any credential, even with sslMode=disabled", async () => {
    const tlsProxy = await startRecordingProxy({ protocol: "mysql", upstream: { host: "127.0.0.1", port: 3306 }, listenHost: "fd00::2" });
    try {
      const r = await jdbcAdapter.healthCheck(
        ctxFor("jdbc", { config: { url: `jdbc:mariadb://[fd00::2]:${tlsProxy.port}/test?user=root&sslMode=disabled` }, destinations: grant("fd00::2", [tlsProxy.port]) }),
      );
      expect(failureOf(r)).toMatchObject({ kind: "network", message: expect.stringMatching(/TLS/) });
      expect(tlsProxy.connections()).toBe(1);
      expect(tlsProxy.statements).toEqual([]);
    } finally {
      await tlsProxy.close();
    }
  });
});
