/**
 * Every SQL text a driver sends, generated here (issue 8 item 6, "intents carry no code"). An
 * intent contributes no SQL: schema names from `config.schemas` travel only as bound parameters
 * (PostgreSQL extended protocol / MySQL server-side prepared statements), and the only
 * identifiers in a text are table names the server's own catalog returned, quoted by
 * `quoteIdent`. The SQL guard (sql-guard.ts) accepts exactly these shapes.
 */
import type { SqlDialect } from "./sql-guard";

/** Quotes an identifier for the dialect (doubling the quote character). */
export function quoteIdent(name: string, dialect: SqlDialect): string {
  if (name.includes("\0")) throw new Error("an identifier cannot contain a NUL byte");
  return dialect === "mysql" ? `\`${name.replace(/`/g, "``")}\`` : `"${name.replace(/"/g, '""')}"`;
}

/**
 * `catalogSql`: the tables and their columns in ONE round trip, with `catalogParams`, in one of
 * two shapes: `joined` (PostgreSQL: one row per column, ordered by schema, table, position; a table
 * without columns has one row with NULL column fields) or `stacked` (MySQL/MariaDB, whose
 * information_schema cannot join fast: the `tablesSql` rows, row_kind 0, then the `columnsSql`
 * rows, row_kind 1, each in its own order). The two-query form (`tablesSql`, then `columnsSql`,
 * with `params`) is what discovery falls back to when that answer is too large to be complete
 * (sql-session.ts).
 */
export type CatalogQueries = {
  /**
   * Relations that exist but the credential may not read, among those with the given names
   * ($2: table or schema names): tells "not visible to the credential" from "absent" for a named
   * table (issue 10 item 7). Only where the catalog shows what the credential cannot read
   * (PostgreSQL's pg_class; MySQL's information_schema hides it).
   */
  hiddenSql?: string;
  catalogSql: string;
  catalogParams: unknown[];
  catalogShape: "joined" | "stacked";
  tablesSql: string;
  columnsSql: string;
  params: unknown[];
};

// ------------------------------------------------------------------ PostgreSQL (pg_catalog)

export const PG_HEALTH_SQL = "SELECT 1 AS ok, current_setting('server_version') AS version";

/** Tables, views, foreign tables, partitioned tables, materialized views. */
const PG_RELKINDS = ["r", "v", "f", "p", "m"];

/**
 * Tables and columns of the named schemas (`$2`), or of every non-system schema, that the
 * credential may read. `$1` is the relkind list. No literal in these texts comes from outside.
 */
export function postgresCatalogQueries(schemas: string[] | undefined): CatalogQueries {
  // the server's own schemas are never read, even when named (admission refuses them too: config-fields.ts)
  const scope = schemas
    ? "n.nspname = ANY ($2::text[]) AND n.nspname <> 'information_schema' AND pg_catalog.substr(n.nspname, 1, 3) <> 'pg_'"
    : "n.nspname <> ALL ($2::text[]) AND pg_catalog.substr(n.nspname, 1, 3) <> 'pg_'";
  const visible = "pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND pg_catalog.has_table_privilege(c.oid, 'SELECT')";
  return {
    catalogSql:
      "SELECT n.nspname AS table_schema, c.relname AS table_name, a.attname AS column_name," +
      " pg_catalog.format_type(a.atttypid, NULL) AS data_type," +
      " CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable" +
      " FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace" +
      " LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped" +
      ` WHERE c.relkind = ANY ($1::"char"[]) AND ${scope} AND ${visible}` +
      " ORDER BY n.nspname, c.relname, a.attnum",
    tablesSql:
      "SELECT n.nspname AS table_schema, c.relname AS table_name" +
      " FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace" +
      ` WHERE c.relkind = ANY ($1::"char"[]) AND ${scope} AND ${visible}` +
      " ORDER BY n.nspname, c.relname",
    columnsSql:
      "SELECT n.nspname AS table_schema, c.relname AS table_name, a.attname AS column_name," +
      " pg_catalog.format_type(a.atttypid, NULL) AS data_type," +
      " CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable" +
      " FROM pg_catalog.pg_attribute AS a JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid" +
      " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace" +
      ` WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind = ANY ($1::"char"[]) AND ${scope} AND ${visible}` +
      " ORDER BY n.nspname, c.relname, a.attnum",
    hiddenSql:
      "SELECT n.nspname AS table_schema, c.relname AS table_name" +
      " FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace" +
      " WHERE c.relkind = ANY ($1::\"char\"[]) AND (c.relname = ANY ($2::text[]) OR n.nspname = ANY ($2::text[]))" +
      ` AND NOT (${visible}) ORDER BY n.nspname, c.relname LIMIT 500`,
    params: [PG_RELKINDS, schemas ?? ["information_schema"]],
    catalogParams: [PG_RELKINDS, schemas ?? ["information_schema"]],
    catalogShape: "joined",
  };
}

// ------------------------------------------------------------------ MySQL / MariaDB (information_schema)

export const MYSQL_HEALTH_SQL = "SELECT 1 AS ok, VERSION() AS version";
export const MYSQL_SYSTEM_SCHEMAS = ["mysql", "information_schema", "performance_schema", "sys"];

const placeholders = (n: number) => `(${Array.from({ length: Math.max(1, n) }, () => "?").join(", ")})`;
const mysqlTables = (op: "IN" | "NOT IN", n: number) =>
  `SELECT table_schema AS table_schema, table_name AS table_name FROM information_schema.tables WHERE table_schema ${op} ${placeholders(n)} AND table_type IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') ORDER BY table_schema, table_name`;
const mysqlCatalog = (op: "IN" | "NOT IN", n: number) =>
  `SELECT 0 AS row_kind, table_schema AS table_schema, table_name AS table_name, NULL AS column_name, NULL AS data_type, NULL AS is_nullable, 0 AS ordinal_position FROM information_schema.tables WHERE table_schema ${op} ${placeholders(n)} AND table_type IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')` +
  ` UNION ALL SELECT 1, table_schema, table_name, column_name, data_type, is_nullable, ordinal_position FROM information_schema.columns WHERE table_schema ${op} ${placeholders(n)}` +
  " ORDER BY row_kind, table_schema, table_name, ordinal_position";
const mysqlColumns = (op: "IN" | "NOT IN", n: number) =>
  `SELECT table_schema AS table_schema, table_name AS table_name, column_name AS column_name, data_type AS data_type, is_nullable AS is_nullable FROM information_schema.columns WHERE table_schema ${op} ${placeholders(n)} ORDER BY table_schema, table_name, ordinal_position`;

/** The named schemas (each a `?` bound server-side), else every non-system schema. */
export function mysqlCatalogQueries(named: string[] | undefined): CatalogQueries {
  // the server's own schemas are never read, even when named (admission refuses them too: config-fields.ts)
  const user = named?.filter((s) => !MYSQL_SYSTEM_SCHEMAS.includes(s.toLowerCase()));
  // only system schemas named: none of them (no schema is called "")
  const schemas = named && user?.length === 0 ? [""] : user;
  const list = schemas ?? MYSQL_SYSTEM_SCHEMAS;
  const op = schemas ? "IN" : "NOT IN";
  return {
    catalogSql: mysqlCatalog(op, list.length),
    catalogParams: [...list, ...list],
    catalogShape: "stacked",
    tablesSql: mysqlTables(op, list.length),
    columnsSql: mysqlColumns(op, list.length),
    params: [...list],
  };
}

/** The fixed MySQL texts, with any placeholder list collapsed to `(?)` (see `collapsePlaceholders`). */
export const MYSQL_FIXED_STATEMENTS: ReadonlySet<string> = new Set([
  MYSQL_HEALTH_SQL,
  mysqlCatalog("IN", 1),
  mysqlCatalog("NOT IN", 1),
  mysqlTables("IN", 1),
  mysqlTables("NOT IN", 1),
  mysqlColumns("IN", 1),
  mysqlColumns("NOT IN", 1),
]);

export const collapsePlaceholders = (sql: string) => sql.replace(/\(\?(?:, \?)*\)/g, "(?)");

// ------------------------------------------------------------------ sample (both dialects)

export const MAX_SAMPLE_LIMIT = 20;

/** `SELECT * FROM <schema>.<table> LIMIT n`: identifiers from the server's catalog, quoted. */
export function sampleStatement(dialect: SqlDialect, schema: string, table: string, n: number): string {
  const limit = Math.max(1, Math.min(MAX_SAMPLE_LIMIT, Math.floor(n)));
  return `SELECT * FROM ${quoteIdent(schema, dialect)}.${quoteIdent(table, dialect)} LIMIT ${limit}`;
}
