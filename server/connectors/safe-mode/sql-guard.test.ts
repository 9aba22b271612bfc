import { describe, expect, it } from "vitest";
import { checkReadOnlySql, formatStreamName, parseStreamName, quoteIdent } from "./sql-guard";

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
