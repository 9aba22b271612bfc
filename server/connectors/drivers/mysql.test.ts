/**
 * Integration: the jdbc driver's MySQL/MariaDB path against the real MariaDB on
 * 127.0.0.1:3306 (root, empty password, database `test`).
 */
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, ctxFor } from "../../../tests/connectors/native/ctx";
import type { ConnectorFailure } from "../types";
import { jdbcAdapter } from "./jdbc";
import { mapMysqlError } from "./mysql";

const MARIADB = { host: "127.0.0.1", port: 3306, user: "root", password: "", database: "test" };
const table = `aam_probe_${randomBytes(4).toString("hex")}`;
const url = `jdbc:mariadb://127.0.0.1:3306/test?user=root`;
const failureOf = (r: { ok: boolean; error?: ConnectorFailure }) => (r.ok ? undefined : r.error);

async function root<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection(MARIADB);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
const rowCount = () => root(async (c) => Number(((await c.query(`SELECT count(*) AS n FROM \`${table}\``))[0] as { n: number }[])[0]!.n));

beforeAll(async () => {
  await root(async (c) => {
    await c.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, amount DECIMAL(8,2) NULL, created_at DATETIME NOT NULL)`);
    const rows = Array.from({ length: 30 }, (_, i) => [i + 1, `row ${i + 1}`, (i * 3.5).toFixed(2), new Date(Date.UTC(2025, 0, 1 + i))]);
    await c.query(`INSERT INTO \`${table}\` VALUES ?`, [rows]);
    // A write hidden in a function: the lexical guard cannot see it, the READ ONLY transaction must.
    await c.query(`CREATE FUNCTION \`${table}_w\`() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO \`${table}\` VALUES (999, 'planted', NULL, NOW()); RETURN 1; END`);
    await c.query(`CREATE VIEW \`${table}_wv\` AS SELECT \`${table}_w\`() AS x`);
    await c.query(`CREATE VIEW \`${table}_slow\` AS SELECT SLEEP(5) AS x`);
    // 10 rows of 1 MB each
    await c.query(`CREATE TABLE \`${table}_wide\` (id INT PRIMARY KEY, body MEDIUMTEXT NOT NULL)`);
    for (let i = 1; i <= 10; i++) await c.query(`INSERT INTO \`${table}_wide\` VALUES (?, REPEAT('x', 1024 * 1024))`, [i]);
  });
});

afterAll(async () => {
  await root(async (c) => {
    await c.query(`DROP VIEW IF EXISTS \`${table}_wv\`, \`${table}_slow\``);
    await c.query(`DROP FUNCTION IF EXISTS \`${table}_w\``);
    await c.query(`DROP TABLE IF EXISTS \`${table}\``);
    await c.query(`DROP TABLE IF EXISTS \`${table}_wide\``);
  });
});

describe("MariaDB: the byte cap on the sample", () => {
  it("reads rows as they arrive and stops at the cap: the rest of the result set is never read", async () => {
    const { runMysqlReadOnly } = await import("../safe-mode/sql-guard");
    const c = await mysql.createConnection(MARIADB);
    c.on("error", () => undefined);
    let received = 0;
    (c as unknown as { connection: { stream: NodeJS.EventEmitter } }).connection.stream.on("data", (b: Buffer) => (received += b.length));
    const rows = await runMysqlReadOnly(c, "mariadb", `SELECT * FROM \`test\`.\`${table}_wide\` LIMIT 10`, { timeoutMs: 10_000, maxRows: 10, maxBytes: 2.5 * 1024 * 1024 });
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
    expect(received).toBeLessThan(6 * 1024 * 1024); // not the 10 MB of the result set
    await c.end().catch(() => undefined);
    // through the driver: the policy's cap bounds the whole sample, and the sample still succeeds
    const ctx = ctxFor("jdbc", { config: { url }, resourceIds: [`${table}_wide`, table], policy: { maxRecords: 20, maxResponseBytes: 3 * 1024 * 1024 } });
    const s = await jdbcAdapter.sample(ctx, { streams: [{ name: `test.${table}_wide`, fields: [] }, { name: `test.${table}`, fields: [] }] });
    if (!s.ok) throw new Error(s.error.message);
    expect(s.value.filter((r) => r.stream === `test.${table}_wide`)).toHaveLength(2);
  });
});

describe("jdbc driver → MariaDB", () => {
  it("passes health, discover and sample", async () => {
    const ctx = ctxFor("jdbc", { config: { url }, resourceIds: [table] });
    const h = await jdbcAdapter.healthCheck(ctx);
    expect(h.ok && h.value.detail).toMatch(/MariaDB/i);

    const d = await jdbcAdapter.discover(ctx);
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.streams).toEqual([
      {
        name: `test.${table}`,
        fields: [
          { name: "id", type: "int", nullable: false },
          { name: "name", type: "varchar", nullable: false },
          { name: "amount", type: "decimal", nullable: true },
          { name: "created_at", type: "datetime", nullable: false },
        ],
      },
    ]);

    const s = await jdbcAdapter.sample(ctx, d.value);
    if (!s.ok) throw new Error(s.error.message);
    expect(s.value.length).toBe(20);
    expect(s.value[0]).toMatchObject({ stream: `test.${table}`, data: { id: 1, name: "row 1" } });
  });

  it("accepts mysql:// URLs with credentials in the secret", async () => {
    const r = await jdbcAdapter.sample(ctxFor("jdbc", { secret: { dsn: "mysql://root:@127.0.0.1:3306/test" }, resourceIds: [table], policy: { maxRecords: 3 } }), { streams: [] });
    expect(r.ok && r.value.map((x) => x.data.id)).toEqual([1, 2, 3]);
  });

  it("never returns more than 20 records, even when the policy asks for 50", async () => {
    const ctx = ctxFor("jdbc", { config: { url }, resourceIds: [table], policy: { maxRecords: 50 } });
    const r = await jdbcAdapter.sample(ctx, { streams: [] });
    expect(r.ok && r.value.length).toBe(20);
  });

  it("maps a wrong password to auth", async () => {
    const r = await jdbcAdapter.healthCheck(ctxFor("jdbc", { config: { url }, secret: { password: "definitely-wrong" } }));
    expect(failureOf(r)?.kind).toBe("auth");
  });

  it("maps a closed port to network", async () => {
    const r = await jdbcAdapter.healthCheck(ctxFor("jdbc", { config: { url: `jdbc:mysql://127.0.0.1:${await closedPort()}/test?user=root` } }));
    expect(failureOf(r)?.kind).toBe("network");
  });

  it("maps a query beyond max_statement_time to timeout", async () => {
    const ctx = ctxFor("jdbc", { config: { url }, policy: { requestTimeoutMs: 300 } });
    const r = await jdbcAdapter.sample(ctx, { streams: [{ name: `test.${table}_slow`, fields: [] }] });
    expect(failureOf(r)).toMatchObject({ kind: "timeout", message: expect.stringContaining("1969") });
  });

  it("refuses the metadata address (egress)", async () => {
    const r = await jdbcAdapter.healthCheck(ctxFor("jdbc", { config: { url: "jdbc:mysql://169.254.169.254:3306/test?user=root" } }));
    expect(failureOf(r)?.kind).toBe("egress_refused");
  });

  it("says unsupported for engines it does not speak", async () => {
    const r = await jdbcAdapter.healthCheck(ctxFor("jdbc", { config: { url: "jdbc:sqlserver://db.example.com:1433;databaseName=x" } }));
    expect(failureOf(r)?.kind).toBe("unsupported");
  });

  it("ignores config.sample_query: only generated statements run, the table is unchanged", async () => {
    const before = await root(async (c) => (await c.query(`SELECT id, name FROM ${table} ORDER BY id`))[0]);
    for (const sql of [`DELETE FROM ${table}`, `UPDATE ${table} SET name = 'changed'`, `SELECT * FROM ${table} INTO OUTFILE '/tmp/aam-out'`]) {
      const r = await jdbcAdapter.sample(ctxFor("jdbc", { config: { url, sample_query: sql }, resourceIds: [table], policy: { maxRecords: 2 } }), { streams: [] });
      expect(r.ok && r.value.map((x) => x.stream), sql).toEqual([`test.${table}`, `test.${table}`]);
    }
    expect(await rowCount()).toBe(30);
    expect(await root(async (c) => (await c.query(`SELECT id, name FROM ${table} ORDER BY id`))[0])).toEqual(before);
  });

  it("a write hidden behind a view (a function the guard cannot see into) is stopped by the READ ONLY transaction", async () => {
    const r = await jdbcAdapter.sample(ctxFor("jdbc", { config: { url } }), { streams: [{ name: `test.${table}_wv`, fields: [] }] });
    expect(failureOf(r)).toMatchObject({ kind: "safe_mode", message: expect.stringContaining("1792") });
    expect(await rowCount()).toBe(30);
  });

  it("reports a missing table as a kind plus errno, never the server's text", async () => {
    const r = await jdbcAdapter.sample(ctxFor("jdbc", { config: { url } }), { streams: [{ name: "test.aam_no_such_table_zz", fields: [] }] });
    expect(failureOf(r)).toEqual({ kind: "other", message: "MySQL/MariaDB error (errno 1146 ER_NO_SUCH_TABLE)" });
  });

  it("error texts that echo values never reach users (kind + errno + code only)", async () => {
    const raw = await root((c) => c.query("SELECT EXTRACTVALUE(1, CONCAT(0x5c, (SELECT GROUP_CONCAT(user) FROM mysql.user)))").then(() => undefined, (e: unknown) => e));
    expect(String((raw as Error).message)).toContain("root"); // the server's own text leaks the user list…
    const mapped = mapMysqlError(raw);
    expect(mapped.message).not.toContain("root");
    expect(mapped).toEqual({ kind: "other", message: "MySQL/MariaDB error (errno 1105 ER_UNKNOWN_ERROR)" });
  });

  it("maps server-side error codes", () => {
    expect(mapMysqlError({ errno: 1969, message: "Query execution was interrupted (max_statement_time exceeded)" }).kind).toBe("timeout");
    expect(mapMysqlError({ code: "ER_ACCESS_DENIED_ERROR", errno: 1045, message: "Access denied" }).kind).toBe("auth");
    expect(mapMysqlError({ errno: 1792, message: "Cannot execute statement in a READ ONLY transaction" }).kind).toBe("safe_mode");
  });
});
