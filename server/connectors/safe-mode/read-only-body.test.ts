import { describe, expect, it } from "vitest";
import { graphqlOperationTypes, isReadOnlyGraphql, isReadOnlySql } from "./read-only-body";

describe("GraphQL read-only check", () => {
  it("accepts queries, shorthand queries and fragments", () => {
    expect(isReadOnlyGraphql("{ viewer { login } }").ok).toBe(true);
    expect(isReadOnlyGraphql("query Q($n: Int = 5) { repos(first: $n) { ...R } } fragment R on Repo { name }").ok).toBe(true);
    expect(graphqlOperationTypes("query A { a } query B { b }")).toEqual(["query", "query"]);
  });
  it("refuses mutations and subscriptions wherever they hide", () => {
    expect(isReadOnlyGraphql("mutation { deleteRepo(id: 1) { id } }").ok).toBe(false);
    expect(isReadOnlyGraphql("  # comment\n  mutation M { x }").ok).toBe(false);
    expect(isReadOnlyGraphql("query A { a } mutation B { b }").ok).toBe(false);
    expect(isReadOnlyGraphql("subscription S { events { id } }").ok).toBe(false);
  });
  it("is not fooled by the keyword inside strings or comments", () => {
    expect(isReadOnlyGraphql('{ search(q: "mutation { x }") { id } } # mutation').ok).toBe(true);
  });
});

describe("SQL read-only check", () => {
  it("accepts single reads", () => {
    for (const s of ["SELECT 1", "select * from t limit 5;", "WITH a AS (SELECT 1) SELECT * FROM a", "SHOW TABLES", "SELECT 'drop table x' AS s"]) {
      expect(isReadOnlySql(s)).toEqual({ ok: true });
    }
  });
  it("refuses writes, DDL, multiple statements and writes hidden in CTEs", () => {
    for (const s of ["DELETE FROM t", "SELECT 1; DROP TABLE t", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "CREATE TABLE x (a int)", "SELECT * INTO t2 FROM t", "GRANT ALL ON t TO u"]) {
      expect(isReadOnlySql(s).ok).toBe(false);
    }
  });
});
