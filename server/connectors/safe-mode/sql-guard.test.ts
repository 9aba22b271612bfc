import { describe, expect, it } from "vitest";
import type pg from "pg";
import { checkMysqlStatement, checkPostgresStatement, checkReadOnlySql, formatStreamName, mariadbLimitsPrefix, splitMariadbLimits, parseStreamName, quoteIdent, runPostgresReadOnly, SafeModeRefusal } from "./sql-guard";
import { MYSQL_HEALTH_SQL, PG_HEALTH_SQL, mysqlCatalogQueries, postgresCatalogQueries, sampleStatement } from "./sql-statements";

const accepted = (sql: string, d: "postgres" | "mysql" = "postgres") => checkReadOnlySql(sql, d).ok;
const refusal = (sql: string, d: "postgres" | "mysql" = "postgres") => {
  const r = checkReadOnlySql(sql, d);
  return r.ok ? undefined : r.error;
};

describe("checkReadOnlySql", () => {
  it.each([
    "SELECT 1",
    "select * from sandbox.customers where name = 'x' limit 5;",
    "WITH recent AS (SELECT * FROM orders) SELECT count(*) FROM recent",
    "SHOW server_version",
    "EXPLAIN SELECT * FROM t",
    "(SELECT 1)",
    "SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END AS start, created_at FROM t",
    "SELECT 'DROP TABLE x; DELETE FROM y' AS harmless_literal",
    "SELECT $$ insert into x $$ AS dollar_literal",
    "SELECT 1 -- ; DROP TABLE t\n",
    "SELECT /* DELETE FROM t; */ 1",
    "SELECT pg_sleep(0.1)",
    "SELECT $1::int",
  ])("accepts a read: %s", (sql) => {
    expect(accepted(sql)).toBe(true);
  });

  it.each([
    ["INSERT INTO t VALUES (1)", "INSERT"],
    ["UPDATE t SET a = 1", "UPDATE"],
    ["DELETE FROM t", "DELETE"],
    ["MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", "MERGE"],
    ["DROP TABLE t", "DROP"],
    ["CREATE TABLE t (a int)", "CREATE"],
    ["ALTER TABLE t ADD COLUMN b int", "ALTER"],
    ["TRUNCATE t", "TRUNCATE"],
    ["GRANT SELECT ON t TO public", "GRANT"],
    ["REVOKE SELECT ON t FROM public", "REVOKE"],
    ["COPY t TO '/tmp/x'", "COPY"],
    ["CALL proc()", "CALL"],
    ["DO $$ BEGIN PERFORM 1; END $$", "DO"],
    ["SELECT 1; DROP TABLE t", "more than one statement"],
    ["SELECT 1; SELECT 2", "more than one statement"],
    ["SELECT * INTO copy_of_t FROM t", "INTO"],
    ["SELECT * FROM t FOR UPDATE", "UPDATE"],
    ["SELECT * FROM t FOR SHARE", "FOR UPDATE/SHARE"],
    ["WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "DELETE"],
    ["EXPLAIN ANALYZE DELETE FROM t", "DELETE"],
    ["EXPLAIN (ANALYZE) SELECT 1", "ANALYZE"],
    ["SELECT pg_terminate_backend(123)", "pg_terminate_backend"],
    ["SELECT lo_import('/etc/passwd')", "lo_import"],
    ["SELECT * FROM dblink('host=x', 'DELETE FROM t') AS r(a int)", "dblink"],
    ["SELECT set_config('default_transaction_read_only', 'off', false)", "set_config"],
    ["SELECT nextval('s')", "nextval"],
    ['SELECT "nextval"(\'s\')', "nextval"],
    ["SELECT pg_catalog.pg_read_file('/etc/passwd')", "pg_read_file"],
    ["SET default_transaction_read_only = off", "only SELECT"],
    ["BEGIN", "only SELECT"],
    ["VACUUM t", "only SELECT"],
    ["", "empty"],
    ["SELECT 'unterminated", "unterminated"],
    ["SELECT /* unterminated", "unterminated"],
  ])("refuses %s", (sql, why) => {
    const e = refusal(sql);
    expect(e?.kind).toBe("safe_mode");
    expect(e?.message.toLowerCase()).toContain(why.toLowerCase());
  });

  it("cannot be fooled by a backslash inside a literal (both escape readings are checked)", () => {
    // Standard strings end at the second quote, so the DROP would run on a server with
    // standard_conforming_strings = on; under backslash escapes it is one literal.
    expect(refusal("SELECT 'a\\'; DROP TABLE t; --'")?.kind).toBe("safe_mode");
    expect(refusal("SELECT 'a\\'; DROP TABLE t; --'", "mysql")?.kind).toBe("safe_mode");
  });

  it("refuses MySQL executable comments, INTO OUTFILE, row locks and LOAD_FILE", () => {
    expect(refusal("SELECT /*!50000 1; DROP TABLE t */ 1", "mysql")?.message).toContain("executable comment");
    expect(refusal("SELECT * FROM t INTO OUTFILE '/tmp/x'", "mysql")?.kind).toBe("safe_mode");
    expect(refusal("SELECT * FROM t LOCK IN SHARE MODE", "mysql")?.kind).toBe("safe_mode");
    expect(refusal("SELECT LOAD_FILE('/etc/passwd')", "mysql")?.kind).toBe("safe_mode");
    expect(refusal("REPLACE INTO t VALUES (1)", "mysql")?.kind).toBe("safe_mode");
    expect(accepted("SELECT `order`, \"a;b\" FROM t # trailing comment; DROP", "mysql")).toBe(true);
    expect(accepted("SHOW TABLES", "mysql")).toBe(true);
  });

  it("strips a trailing semicolon from the SQL it returns", () => {
    const r = checkReadOnlySql("SELECT 1 ;  ");
    expect(r.ok && r.value.sql).toBe("SELECT 1");
  });
});

describe("identifiers and stream names", () => {
  it("quotes identifiers per dialect, doubling the quote", () => {
    expect(quoteIdent('we"ird', "postgres")).toBe('"we""ird"');
    expect(quoteIdent("we`ird", "mysql")).toBe("`we``ird`");
  });

  it("round-trips schema.table names, quoting parts with dots", () => {
    for (const [s, t] of [["sandbox", "orders"], ["a.b", "c"], ["x", 'y"z.w']] as const) {
      expect(parseStreamName(formatStreamName(s, t))).toEqual({ schema: s, table: t });
    }
    expect(parseStreamName("orders")).toEqual({ table: "orders" });
  });
});

describe("checkPostgresStatement (PostgreSQL's own parser, generated shapes only)", () => {
  const refusedPg = async (sql: string) => {
    const r = await checkPostgresStatement(sql);
    return r.ok ? undefined : r.error;
  };

  it("accepts every statement the postgres driver generates", async () => {
    const stmts = [PG_HEALTH_SQL, sampleStatement("postgres", "sandbox", "orders", 7), sampleStatement("postgres", 'we"ird', "a.b;c", 1)];
    for (const schemas of [undefined, ["sandbox"]]) {
      const q = postgresCatalogQueries(schemas);
      stmts.push(q.catalogSql, q.tablesSql, q.columnsSql);
    }
    for (const sql of stmts) expect(await checkPostgresStatement(sql), sql).toMatchObject({ ok: true });
  });

  it.each([
    // the probes
    [`SELECT U&"\\0070g_terminate_backend"(1)`, "pg_terminate_backend"],
    [`SELECT * FROM U&"\\0070g_catalog".pg_class WHERE U&"\\0070g_terminate_backend"(1) = 1`, "pg_terminate_backend"],
    ["SELECT * FROM ts_stat('SELECT 1')", "RangeFunction"],
    ["SELECT ts_stat('SELECT vector FROM docs')", "ts_stat"],
    ["SELECT CAST((SELECT string_agg(rolname, ',') FROM pg_roles) AS int)", "SubLink"],
    // everything else outside the generated shapes
    ["SELECT * FROM sandbox.orders; DELETE FROM sandbox.orders", "more than one statement"],
    ["DELETE FROM sandbox.orders", "only generated SELECT"],
    ["WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "withClause"],
    ["SELECT * INTO sandbox.copy FROM sandbox.orders", "intoClause"],
    ["SELECT * FROM sandbox.orders FOR UPDATE", "lockingClause"],
    ["SELECT * FROM sandbox.orders UNION SELECT * FROM sandbox.orders", "larg"],
    ["SELECT pg_read_file('/etc/passwd')", "pg_read_file"],
    ["SELECT pg_catalog.pg_sleep(10)", "pg_sleep"],
    ["SELECT \"set_config\"('default_transaction_read_only', 'off', false)", "set_config"],
    ["SELECT current_setting('data_directory')", "server_version"],
    ["SELECT * FROM pg_catalog.pg_authid", "pg_authid"],
    ["SELECT * FROM pg_roles", "not schema-qualified"],
    ["SELECT * FROM information_schema.tables", "system relation"],
    ["SELECT * FROM other_db.public.t", "cross-database"],
    ["SELECT * FROM (SELECT 1) AS x", "RangeSubselect"],
    ["SELECT * FROM sandbox.orders WHERE id = 1 OR id @@ 2", "operator @@"],
    ["SELECT 'a\\' AS x", "backslash"],
    ["SELECT 1::regclass", "regclass"],
    ["SELEC 1", "does not parse"],
  ])("refuses %s", async (sql, why) => {
    const e = await refusedPg(sql);
    expect(e?.kind).toBe("safe_mode");
    expect(e?.message).toContain(why);
  });
});

describe("checkMysqlStatement (generated shapes only)", () => {
  it("accepts every statement the mysql driver generates", () => {
    const stmts = [MYSQL_HEALTH_SQL, sampleStatement("mysql", "test", "orders", 20), sampleStatement("mysql", "we`ird", "a.b;c", 3)];
    for (const schemas of [undefined, ["test"], ["a", "b", "c"]]) {
      const q = mysqlCatalogQueries(schemas);
      stmts.push(q.catalogSql, q.tablesSql, q.columnsSql);
    }
    for (const sql of stmts) expect(checkMysqlStatement(sql), sql).toMatchObject({ ok: true });
  });

  it.each([
    "SELECT * FROM `test`.`t` LIMIT 5; DELETE FROM t",
    "SELECT * FROM `test`.`t` LIMIT 50",
    "SELECT * FROM `test`.`t` LIMIT 0",
    "SELECT * FROM `te`st`.`t` LIMIT 5",
    "SELECT * FROM `test`.`t`` LIMIT 5",
    "SELECT * FROM `test`.`t` WHERE 1 LIMIT 5",
    "SELECT * FROM test.t LIMIT 5",
    "SELECT LOAD_FILE('/etc/passwd')",
    "SELECT CAST((SELECT GROUP_CONCAT(user) FROM mysql.user) AS SIGNED)",
    "SELECT 1 AS ok, VERSION() AS version -- x",
    "SELECT table_schema AS table_schema, table_name AS table_name FROM information_schema.tables WHERE table_schema IN ('x') AND table_type IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') ORDER BY table_schema, table_name",
  ])("refuses %s", (sql) => {
    const r = checkMysqlStatement(sql);
    expect(r.ok ? undefined : r.error.kind).toBe("safe_mode");
  });
});

describe("runPostgresReadOnly on a client in pipeline mode (what it writes, in order)", () => {
  /** A pipelined client that answers from a script; `status` is the transaction status after the prelude. */
  function scriptedClient(opts: { failPrelude?: string; status?: "I" | "T" | "E" } = {}) {
    const sent: string[] = [];
    const client = {
      pipeline: true,
      getTransactionStatus: () => opts.status ?? "T",
      query: (q: string | { text: string }) => {
        const text = typeof q === "string" ? q : q.text;
        sent.push(typeof q === "string" ? text : "read");
        if (text === opts.failPrelude) return Promise.reject(Object.assign(new Error("refused"), { code: "25P02" }));
        return Promise.resolve({ rows: typeof q === "string" ? [] : [{ id: 1 }] });
      },
    };
    return { client: client as unknown as pg.ClientBase, sent };
  }
  const SQL = sampleStatement("postgres", "app", "orders", 5);
  const prelude = ["BEGIN READ ONLY", "SET LOCAL statement_timeout = 1000", "SET LOCAL idle_in_transaction_session_timeout = 2000"];

  it("BEGIN and both SET LOCALs, then the query, then ROLLBACK", async () => {
    const { client, sent } = scriptedClient();
    expect(await runPostgresReadOnly(client, SQL, { timeoutMs: 1000, maxRows: 5 })).toEqual([{ id: 1 }]);
    expect(sent).toEqual([...prelude, "read", "ROLLBACK"]);
  });

  it("never sends the query when a prelude statement failed or no transaction is open", async () => {
    for (const c of [scriptedClient({ failPrelude: "SET LOCAL statement_timeout = 1000" }), scriptedClient({ failPrelude: "BEGIN READ ONLY" }), scriptedClient({ status: "I" }), scriptedClient({ status: "E" })]) {
      await expect(runPostgresReadOnly(c.client, SQL, { timeoutMs: 1000, maxRows: 5 })).rejects.toBeDefined();
      expect(c.sent).toEqual([...prelude, "ROLLBACK"]);
    }
    const idle = scriptedClient({ status: "I" });
    await expect(runPostgresReadOnly(idle.client, SQL, { timeoutMs: 1000, maxRows: 5 })).rejects.toBeInstanceOf(SafeModeRefusal);
  });

  it("openNext: the next read's prelude goes right behind this read's ROLLBACK, and the next read takes it", async () => {
    const { client, sent } = scriptedClient();
    await runPostgresReadOnly(client, SQL, { timeoutMs: 1000, maxRows: 5, openNext: true });
    await runPostgresReadOnly(client, SQL, { timeoutMs: 1000, maxRows: 5 });
    expect(sent).toEqual([...prelude, "read", "ROLLBACK", ...prelude, "read", "ROLLBACK"]);
    // opened for another timeout: ended, and this read opens its own
    const other = scriptedClient();
    await runPostgresReadOnly(other.client, SQL, { timeoutMs: 1000, maxRows: 5, openNext: true });
    await runPostgresReadOnly(other.client, SQL, { timeoutMs: 3000, maxRows: 5 });
    expect(other.sent).toEqual([...prelude, "read", "ROLLBACK", ...prelude, "ROLLBACK", "BEGIN READ ONLY", "SET LOCAL statement_timeout = 3000", "SET LOCAL idle_in_transaction_session_timeout = 6000", "read", "ROLLBACK"]);
  });

  it("refuses a statement outside the generated shapes before writing anything", async () => {
    const { client, sent } = scriptedClient();
    await expect(runPostgresReadOnly(client, "SELECT pg_catalog.pg_sleep(10)", { timeoutMs: 1000, maxRows: 5 })).rejects.toBeInstanceOf(SafeModeRefusal);
    expect(sent).toEqual([]);
  });
});

describe("checkPostgresStatement remembers accepted texts only", () => {
  it("a refused text is refused every time; an accepted one is accepted again with the same SQL", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await checkPostgresStatement("SELECT pg_catalog.pg_sleep(10)")).ok).toBe(false);
      expect(await checkPostgresStatement(`${PG_HEALTH_SQL};`)).toEqual({ ok: true, value: { sql: PG_HEALTH_SQL } });
    }
  });
});

describe("MariaDB per-statement limits", () => {
  it("are generated from whole numbers only, and split back into the limits and the checked statement", () => {
    const stmt = "SELECT * FROM `s`.`t` LIMIT 7";
    expect(mariadbLimitsPrefix(10_000, 7)).toBe("SET STATEMENT max_statement_time = 10.000, sql_select_limit = 7 FOR ");
    // fractions are floored and nothing below 1 ms or 1 row is written (0 means "no limit" to MariaDB)
    expect(mariadbLimitsPrefix(2.9, 0)).toBe("SET STATEMENT max_statement_time = 0.002, sql_select_limit = 1 FOR ");
    expect(mariadbLimitsPrefix(-5, -1)).toBe("SET STATEMENT max_statement_time = 0.001, sql_select_limit = 1 FOR ");
    expect(splitMariadbLimits(`${mariadbLimitsPrefix(1_500, 20)}${stmt}`)).toEqual({ timeoutS: 1.5, maxRows: 20, statement: stmt });
    // anything else is not a statement this code generated
    expect(splitMariadbLimits(stmt)).toBeUndefined();
    expect(splitMariadbLimits(`SET STATEMENT max_statement_time = 0, sql_select_limit = 7 FOR ${stmt}`)).toBeUndefined();
    expect(splitMariadbLimits(`SET STATEMENT sql_select_limit = 7 FOR ${stmt}`)).toBeUndefined();
  });
});
