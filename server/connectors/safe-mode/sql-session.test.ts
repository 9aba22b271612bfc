/**
 * discoverSql's one-round-trip catalog (both shapes) gives what the two-query form gives, falls
 * back to it when the one read is too large to be complete, and sqlAttemptSource's sample reads
 * what its discovery found instead of discovering again. A scripted SqlSession stands in for a
 * server (the real ones: drivers/sql-attempt.test.ts, tests/connectors/sql-trust-boundary.test.ts).
 */
import { describe, expect, it } from "vitest";
import { ctxFor } from "../../../tests/connectors/native/ctx";
import { MAX_TABLES, discoverSql, sqlAttemptSource, type SqlSession } from "./sql-session";
import { mysqlCatalogQueries, postgresCatalogQueries, type CatalogQueries } from "./sql-statements";
import type { Rows } from "./sql-guard";

type Table = { schema: string; table: string; columns: string[] };
/** a catalog text whose answer is past the row cap: discovery must take the two-query form */
const FORCE_FALLBACK = "force the two-query form";

/** Answers the catalog texts of `q` from `tables` as the server would; records what was read. */
function fakeSession(q: CatalogQueries, tables: Table[], reads: string[] = []): SqlSession {
  const tableRows = tables.map((t) => ({ table_schema: t.schema, table_name: t.table }));
  const columnRows = tables.flatMap((t) => t.columns.map((c) => ({ table_schema: t.schema, table_name: t.table, column_name: c, data_type: "text", is_nullable: "YES" })));
  const answer = (sql: string): Rows => {
    if (sql === q.tablesSql) return tableRows;
    if (sql === q.columnsSql) return columnRows;
    if (sql === q.catalogSql && q.catalogShape === "stacked") {
      return [...tableRows.map((r) => ({ row_kind: 0, ...r, column_name: null })), ...columnRows.map((r) => ({ row_kind: 1, ...r }))];
    }
    if (sql === q.catalogSql) {
      return tables.flatMap((t): Rows =>
        t.columns.length
          ? t.columns.map((c) => ({ table_schema: t.schema, table_name: t.table, column_name: c, data_type: "text", is_nullable: "YES" }))
          : [{ table_schema: t.schema, table_name: t.table, column_name: null, data_type: null, is_nullable: "YES" }],
      );
    }
    if (sql === q.hiddenSql) return []; // nothing hidden from the credential here
    if (sql === FORCE_FALLBACK) return Array.from({ length: MAX_TABLES * 20 + 20_001 }, () => ({ table_schema: "x", table_name: "y", row_kind: 0 }));
    if (sql.startsWith("SELECT * FROM")) return [{ id: 1 }];
    throw new Error(`unexpected statement ${sql}`);
  };
  return {
    dialect: q.catalogShape === "stacked" ? "mysql" : "postgres",
    read: async (sql, o) => {
      reads.push(sql === q.catalogSql || sql === FORCE_FALLBACK ? "catalog" : sql === q.tablesSql ? "tables" : sql === q.columnsSql ? "columns" : sql === q.hiddenSql ? "hidden" : "sample");
      return answer(sql).slice(0, o.maxRows);
    },
  };
}

const TABLES: Table[] = [
  { schema: "app", table: "empty", columns: [] },
  { schema: "app", table: "orders", columns: ["id", "total"] },
  { schema: "app", table: "users", columns: ["id", "email", "name"] },
];

describe("discoverSql: one catalog read", () => {
  for (const [dialect, q] of [
    ["postgres (joined)", postgresCatalogQueries(["app"])],
    ["mysql (stacked)", mysqlCatalogQueries(["app"])],
  ] as const) {
    it(`${dialect}: one read, the same schema and named-resource checks as the two-query form`, async () => {
      const ctx = ctxFor("x", { resourceIds: ["app.orders", "app.empty", "app.nope"] });
      const reads: string[] = [];
      const one = await discoverSql(fakeSession(q, TABLES, reads), ctx, q);
      // (PostgreSQL then asks which of the missing names exist but are hidden from the credential)
      const hidden = q.hiddenSql ? ["hidden"] : [];
      expect(reads).toEqual(["catalog", ...hidden]);
      // the two-query form on the same catalog gives the same answer
      const twoReads: string[] = [];
      const two = await discoverSql(fakeSession(q, TABLES, twoReads), ctx, { ...q, catalogSql: FORCE_FALLBACK });
      expect(twoReads).toEqual(["catalog", "tables", "columns", ...hidden]);
      expect(one).toEqual(two);
      expect(one).toEqual({
        ok: true,
        value: {
          streams: [
            { name: "app.empty", fields: [] },
            { name: "app.orders", fields: [{ name: "id", type: "text", nullable: true }, { name: "total", type: "text", nullable: true }] },
          ],
          resources: [
            { id: "app.orders", kind: "table or schema", found: true },
            { id: "app.empty", kind: "table or schema", found: true },
            expect.objectContaining({ id: "app.nope", found: false, reason: "absent" }),
          ],
        },
      });
    });

    it(`${dialect}: past the row cap the one read is not complete, and the two-query form runs`, async () => {
      // more tables than the two-query form would list, each with enough columns to pass the cap
      const many: Table[] = Array.from({ length: MAX_TABLES * 20 + 1 }, (_, i) => ({ schema: "app", table: `t${String(i).padStart(5, "0")}`, columns: ["a", "b", "c"] }));
      const reads: string[] = [];
      const d = await discoverSql(fakeSession(q, many, reads), ctxFor("x", { resourceIds: [`app.t${String(MAX_TABLES * 20).padStart(5, "0")}`] }), q);
      expect(reads).toEqual(["catalog", "tables", "columns", ...(q.hiddenSql ? ["hidden"] : [])]);
      // as before: the tables query's own cap decides what is found
      expect(d.ok && d.value.resources?.[0]).toMatchObject({ found: false });
    });
  }
});

describe("sqlAttemptSource", () => {
  it("a sample with no streams reads what discovery found, without discovering again; it discovers once when it ran first", async () => {
    const q = postgresCatalogQueries(["app"]);
    const reads: string[] = [];
    const ctx = ctxFor("postgres", { resourceIds: ["app.orders"] });
    const s = sqlAttemptSource({ session: fakeSession(q, TABLES, reads), ctx, catalog: q, health: async () => ({ ok: true, value: { latencyMs: 1 } }), mapError: () => ({ kind: "other", message: "x" }), close: async () => undefined });
    expect((await s.discover()).ok).toBe(true);
    const r = await s.sample({ streams: [] });
    expect(r.ok && r.value.map((x) => x.stream)).toEqual(Array.from({ length: 1 }, () => "app.orders"));
    expect(reads).toEqual(["catalog", "sample"]);

    const fresh: string[] = [];
    const t = sqlAttemptSource({ session: fakeSession(q, TABLES, fresh), ctx, catalog: q, health: async () => ({ ok: true, value: { latencyMs: 1 } }), mapError: () => ({ kind: "other", message: "x" }), close: async () => undefined });
    expect((await t.sample({ streams: [] })).ok).toBe(true);
    expect(fresh).toEqual(["catalog", "sample"]);
  });

  it("a thrown read is the driver's mapped failure, not an exception", async () => {
    const q = postgresCatalogQueries(undefined);
    const boom: SqlSession = { dialect: "postgres", read: async () => Promise.reject(Object.assign(new Error("server text with secrets"), { code: "42501" })) };
    const s = sqlAttemptSource({ session: boom, ctx: ctxFor("postgres"), catalog: q, health: async (x) => (await x.read("SELECT 1", { maxRows: 1 }), { ok: true, value: { latencyMs: 1 } }), mapError: (e) => ({ kind: "auth", message: `mapped ${(e as { code: string }).code}` }), close: async () => undefined });
    expect(await s.healthCheck()).toEqual({ ok: false, error: { kind: "auth", message: "mapped 42501" } });
    expect(await s.discover()).toEqual({ ok: false, error: { kind: "auth", message: "mapped 42501" } });
  });
});
