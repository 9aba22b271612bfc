/**
 * Safe Mode for SQL (DESIGN.md "Safe Mode"): the one place every SQL driver goes through.
 * Intents carry no SQL: drivers send only the statements sql-statements.ts generates, and this
 * guard is defence in depth that accepts only those shapes:
 *  - PostgreSQL: `checkPostgresStatement` parses with PostgreSQL's own grammar (libpg-query) and
 *    accepts one SELECT built from an allowlist of node types, functions, operators, casts and
 *    relations (so `U&"\0070g_…"`, `ts_stat('…')` and `CAST((SELECT …) AS int)` cannot pass).
 *  - MySQL/MariaDB: `checkMysqlStatement` accepts only the fixed catalog texts and the sample shape.
 *  - `checkReadOnlySql`: the older lexical check, still used for warehouse SQL in HTTP bodies.
 * Execution then happens inside a READ ONLY transaction with a statement timeout and a row limit,
 * always rolled back (or, for one attempt's reads on MySQL/MariaDB, ended with the connection),
 * which catches what no text check can see (a view over a writing function).
 */
import type pg from "pg";
import type { Connection as MysqlConnection } from "mysql2/promise";
import { lru } from "../../lib/lru";
import { err, ok } from "../../lib/result";
import type { ConnectorResult } from "../types";
import { MAX_SAMPLE_LIMIT, MYSQL_FIXED_STATEMENTS, collapsePlaceholders, quoteIdent } from "./sql-statements";

export type SqlDialect = "postgres" | "mysql";

/** Statements that may start a Safe Mode query. */
const READ_LEADERS = new Set(["select", "with", "show", "explain", "desc", "describe"]);

/**
 * Words that never belong inside a read, wherever they appear (data-modifying CTEs, SELECT …
 * INTO, EXPLAIN ANALYZE, MySQL row locks). Statement-only commands (SET, BEGIN, VACUUM, LOAD…)
 * are already refused by the leading-keyword rule; listing them here would refuse common
 * column names such as `start` or CASE … END.
 */
const FORBIDDEN_WORDS = [
  "insert", "update", "delete", "merge", "upsert", "replace into",
  "create", "alter", "drop", "truncate", "rename", "grant", "revoke",
  "copy", "call", "into", "analyze", "analyse", "lock in share mode", "lock table", "lock tables",
];

/** Functions known to write, lock, signal or read server files. Matched as `name(`. */
const FORBIDDEN_FUNCTIONS = [
  // PostgreSQL
  "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_promote",
  "pg_switch_wal", "pg_switch_xlog", "pg_create_restore_point", "pg_start_backup", "pg_stop_backup",
  "pg_backup_start", "pg_backup_stop", "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
  "pg_drop_replication_slot", "pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot",
  "pg_logical_emit_message", "pg_replication_origin_create", "pg_replication_origin_drop",
  "pg_replication_origin_advance", "pg_replication_origin_session_setup", "pg_notify",
  "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
  "pg_try_advisory_lock", "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared",
  "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write", "pg_file_rename", "pg_file_unlink",
  "pg_import_system_collations", "pg_stat_reset", "pg_stat_reset_shared", "pg_stat_statements_reset",
  "lo_import", "lo_export", "lo_unlink", "lo_create", "lo_creat", "lo_from_bytea", "lo_put", "lo_truncate",
  "lo_truncate64", "lo_open", "lowrite", "lo_write",
  "dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_send_query", "dblink_open",
  "set_config", "nextval", "setval", "txid_current", "pg_current_xact_id",
  "query_to_xml", "query_to_xml_and_xmlschema", "table_to_xml", "cursor_to_xml", "database_to_xml", "schema_to_xml",
  // MySQL / MariaDB
  "get_lock", "release_lock", "release_all_locks", "load_file", "sys_exec", "sys_eval",
];

const refuse = (why: string): ConnectorResult<never> =>
  err({ kind: "safe_mode", message: `Safe Mode refused the SQL statement: ${why}` });

type LexOptions = { dialect: SqlDialect; backslashEscapes: boolean };

/**
 * Replaces comments with a space and string literals with `''`; keeps quoted identifiers as
 * plain words (so `"nextval"(…)` is still seen as nextval). Returns an error string when the
 * text cannot be lexed (unterminated literal/comment, MySQL executable comment).
 */
export function stripSql(sql: string, opts: LexOptions): { text: string } | { error: string } {
  let out = "";
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    // -- line comment (MySQL needs a space after --, but treating any -- as a comment is stricter)
    if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? n : end + 1;
      out += " ";
      continue;
    }
    if (c === "#" && opts.dialect === "mysql") {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? n : end + 1;
      out += " ";
      continue;
    }
    if (c === "/" && next === "*") {
      // MySQL executes the body of /*! … */ and /*M! … */ comments: never accept them.
      if (sql[i + 2] === "!" || (sql[i + 2] === "M" && sql[i + 3] === "!")) return { error: "executable comment (/*! … */)" };
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === "*" && sql[j + 1] === "/") {
          depth--;
          j += 2;
        } else if (opts.dialect === "postgres" && sql[j] === "/" && sql[j + 1] === "*") {
          depth++;
          j += 2;
        } else j++;
      }
      if (depth > 0) return { error: "unterminated comment" };
      i = j;
      out += " ";
      continue;
    }
    if (c === "'" || (c === '"' && opts.dialect === "mysql")) {
      // E'…' strings in PostgreSQL always take backslash escapes.
      const escapes = opts.backslashEscapes || (opts.dialect === "postgres" && /[eE]/.test(sql[i - 1] ?? "") && !/\w/.test(sql[i - 2] ?? ""));
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const d = sql[j]!;
        if (escapes && d === "\\") {
          j += 2;
          continue;
        }
        if (d === c) {
          if (sql[j + 1] === c) {
            j += 2;
            continue;
          }
          closed = true;
          j++;
          break;
        }
        j++;
      }
      if (!closed) return { error: "unterminated string literal" };
      out += "''";
      i = j;
      continue;
    }
    if (c === '"' || (c === "`" && opts.dialect === "mysql")) {
      const end = sql.indexOf(c, i + 1);
      if (end === -1) return { error: "unterminated quoted identifier" };
      out += ` ${sql.slice(i + 1, end).replace(/[^A-Za-z0-9_]/g, "_")} `;
      i = end + 1;
      continue;
    }
    if (c === "$" && opts.dialect === "postgres") {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      // $1 placeholders are not dollar quotes; a tag cannot follow an identifier character.
      if (m && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? "")) {
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        if (end === -1) return { error: "unterminated dollar-quoted string" };
        out += "''";
        i = end + tag.length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return { text: out };
}

function checkStripped(text: string): string | undefined {
  const body = text.trim().replace(/;\s*$/, "").trim();
  if (!body) return "empty statement";
  if (body.includes(";")) return "more than one statement (';')";
  const lower = body.toLowerCase().replace(/\s+/g, " ");
  const first = /^[(\s]*([a-z_]+)/.exec(lower)?.[1];
  if (!first || !READ_LEADERS.has(first)) return `only SELECT, WITH … SELECT, SHOW and EXPLAIN are allowed (got ${first ? first.toUpperCase() : "no keyword"})`;
  for (const word of FORBIDDEN_WORDS) {
    const re = new RegExp(`(^|[^a-z0-9_$])${word.replace(" ", "\\s+")}($|[^a-z0-9_$])`);
    if (re.test(lower)) return `${word.toUpperCase()} is not a read`;
  }
  if (/\bfor\s+(no\s+key\s+)?(update|share|key\s+share)\b/.test(lower)) return "row locks (FOR UPDATE/SHARE) are not allowed";
  for (const fn of FORBIDDEN_FUNCTIONS) {
    const re = new RegExp(`(^|[^a-z0-9_$])${fn}\\s*\\(`);
    if (re.test(lower)) return `function ${fn}() can write or leave the database`;
  }
  return undefined;
}

/**
 * Accepts one read statement; the returned text is the original SQL without a trailing ';'.
 * Checked under both string-escape interpretations (standard and backslash), since the guard
 * cannot know the server's setting and a disagreement is how literals smuggle statements.
 */
export function checkReadOnlySql(sql: string, dialect: SqlDialect = "postgres"): ConnectorResult<{ sql: string; kind: "select" | "other" }> {
  if (typeof sql !== "string") return refuse("not a string");
  if (sql.length > 20_000) return refuse("statement too long");
  let kind: "select" | "other" = "other";
  for (const backslashEscapes of [false, true]) {
    const stripped = stripSql(sql, { dialect, backslashEscapes });
    if ("error" in stripped) return refuse(stripped.error);
    const why = checkStripped(stripped.text);
    if (why) return refuse(why);
    const first = /^[(\s]*([a-z_]+)/i.exec(stripped.text)?.[1]?.toLowerCase();
    kind = first === "select" || first === "with" ? "select" : "other";
  }
  return ok({ sql: sql.trim().replace(/;\s*$/, "").trimEnd(), kind });
}

export { quoteIdent };

/**
 * `maxBytes`: where the dialect can, rows are cut server-side once their running size passes it
 * (PostgreSQL). `openNext` (PostgreSQL in pipeline mode): another read follows on this client, so
 * its READ ONLY transaction is opened right behind this read's ROLLBACK (see runPostgresReadOnly).
 */
export type ReadOnlyOptions = { timeoutMs: number; maxRows: number; maxBytes?: number; params?: unknown[]; openNext?: boolean };

/** The running-size column of a byte-capped PostgreSQL read (removed from the rows). */
const PG_BYTES_COLUMN = "aam_safe_mode_bytes";
export type Rows = Record<string, unknown>[];
/** Rows cut at the byte cap on a session that cannot be read again (MySQL/MariaDB). */
export type CutRows = Rows & { cutAtByteCap?: true };

/** A failure thrown by a guarded executor is a value the driver maps; keep the safe_mode kind. */
export class SafeModeRefusal extends Error {
  readonly kind = "safe_mode" as const;
}

// ------------------------------------------------------------------ PostgreSQL: the server's own parser

let parserReady: Promise<void> | undefined;
/** PostgreSQL's parser (libpg-query: the server's grammar compiled to WASM, shipped inside the npm package). */
async function pgParser(): Promise<typeof import("libpg-query")> {
  const mod = await import("libpg-query");
  parserReady ??= mod.loadModule();
  await parserReady;
  return mod;
}

/** Node types a generated statement may contain; anything else (sub-queries, CTEs, set-returning functions in FROM, INTO, locks…) is refused. */
const PG_NODES = new Set([
  "SelectStmt", "ResTarget", "ColumnRef", "A_Star", "String", "RangeVar", "JoinExpr", "A_Const", "Integer",
  "ParamRef", "A_Expr", "BoolExpr", "FuncCall", "TypeCast", "SortBy", "CaseExpr", "CaseWhen",
]);
/** SelectStmt fields a generated statement may use (others: WITH, INTO, FOR UPDATE, UNION, GROUP BY, DISTINCT, OFFSET, VALUES…). */
const PG_SELECT_FIELDS = new Set(["targetList", "fromClause", "whereClause", "sortClause", "limitCount", "limitOption", "op"]);
/** Functions the generated statements call (matched on the name the parser produced, so U&"…" escapes cannot disguise one). */
const PG_FUNCTIONS = new Set(["format_type", "has_table_privilege", "has_schema_privilege", "current_setting", "substr"]);
const PG_OPERATORS = new Set(["=", "<>", ">", "<"]);
const PG_CAST_TYPES = new Set(["text", "char", "int4", "oid", "name", "bool"]);
/** The only catalog relations a generated statement reads. */
const PG_CATALOG_RELATIONS = new Set(["pg_class", "pg_namespace", "pg_attribute"]);

type PgNode = Record<string, unknown>;
const names = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((x) => String((x as { String?: { sval?: string } })?.String?.sval ?? "\0")) : [];

function checkPgNode(type: string, node: PgNode): string | undefined {
  switch (type) {
    case "SelectStmt": {
      for (const k of Object.keys(node)) if (!PG_SELECT_FIELDS.has(k)) return `SELECT with ${k} is not a generated statement`;
      if (node.op !== undefined && node.op !== "SETOP_NONE") return "set operations are not allowed";
      return undefined;
    }
    case "FuncCall": {
      const n = names(node.funcname);
      const fn = n.length === 1 ? n[0]! : n.length === 2 && n[0] === "pg_catalog" ? n[1]! : undefined;
      if (!fn || !PG_FUNCTIONS.has(fn)) return `function ${n.join(".")}() is not allowed`;
      for (const k of ["agg_star", "agg_distinct", "agg_filter", "agg_order", "over", "func_variadic", "agg_within_group"]) {
        if (node[k]) return `function ${fn}() with ${k} is not allowed`;
      }
      if (fn === "current_setting") {
        const args = node.args as PgNode[] | undefined;
        const v = (args?.[0] as { A_Const?: { sval?: { sval?: string } } } | undefined)?.A_Const?.sval?.sval;
        if (args?.length !== 1 || v !== "server_version") return "current_setting() may only read server_version";
      }
      return undefined;
    }
    case "A_Expr": {
      const n = names(node.name);
      const op = n.length === 1 ? n[0]! : n.length === 2 && n[0] === "pg_catalog" ? n[1]! : "";
      if (!["AEXPR_OP", "AEXPR_OP_ANY", "AEXPR_OP_ALL"].includes(String(node.kind))) return `expression ${String(node.kind)} is not allowed`;
      if (!PG_OPERATORS.has(op)) return `operator ${n.join(".")} is not allowed`;
      return undefined;
    }
    case "TypeCast": {
      const n = names((node.typeName as PgNode | undefined)?.names);
      const t = n.at(-1) ?? "";
      if (!PG_CAST_TYPES.has(t) || (n.length === 2 && n[0] !== "pg_catalog") || n.length > 2) return `cast to ${n.join(".")} is not allowed`;
      return undefined;
    }
    case "RangeVar": {
      const schema = node.schemaname as string | undefined;
      const rel = String(node.relname ?? "");
      if (node.catalogname) return "cross-database references are not allowed";
      if (!schema) return `relation ${rel} is not schema-qualified`;
      if (schema === "pg_catalog") return PG_CATALOG_RELATIONS.has(rel) ? undefined : `catalog relation pg_catalog.${rel} is not allowed`;
      if (schema === "information_schema" || schema.startsWith("pg_")) return `system relation ${schema}.${rel} is not allowed`;
      return undefined;
    }
    case "A_Const": {
      const sval = (node.sval as { sval?: string } | undefined)?.sval;
      // one reading only: a backslash would read differently with standard_conforming_strings off
      if (typeof sval === "string" && /[\\']/.test(sval)) return "string literals with backslashes or quotes are not allowed";
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Walks the parse tree: every node type must be allowed (keys starting with a capital letter are node types). */
function walkPg(value: unknown, depth: number): string | undefined {
  if (depth > 64) return "statement nested too deep";
  if (Array.isArray(value)) {
    for (const v of value) {
      const why = walkPg(v, depth + 1);
      if (why) return why;
    }
    return undefined;
  }
  if (!value || typeof value !== "object") return undefined;
  for (const [k, v] of Object.entries(value as PgNode)) {
    if (/^[A-Z]/.test(k)) {
      if (!PG_NODES.has(k)) return `${k} is not allowed in a Safe Mode statement`;
      const why = checkPgNode(k, (v ?? {}) as PgNode);
      if (why) return why;
    }
    const why = walkPg(v, depth + 1);
    if (why) return why;
  }
  return undefined;
}

/**
 * Defence in depth for PostgreSQL: the statement is parsed by PostgreSQL's own grammar and
 * accepted only when it is one plain SELECT built from the node types, functions, operators,
 * casts and relations the generated statements (sql-statements.ts) use. Unicode-escaped
 * identifiers, `ts_stat('…')`, sub-queries (`CAST((SELECT …) AS int)`), CTEs, INTO and locks
 * cannot pass, whatever their spelling, because the check reads the parse tree, not the text.
 */
export async function checkPostgresStatement(sql: string): Promise<ConnectorResult<{ sql: string }>> {
  if (typeof sql !== "string" || sql.length > 20_000) return refuse("not a statement of acceptable length");
  // the check is a pure function of the text: an accepted text is accepted again without parsing
  // (the catalog and health texts repeat on every attempt, sample texts for every known table)
  const known = ACCEPTED_PG.get(sql);
  if (known !== undefined) return ok({ sql: known });
  const r = await parsePostgresStatement(sql);
  if (r.ok && sql.length <= 4_096) ACCEPTED_PG.set(sql, r.value.sql);
  return r;
}

/** Texts (≤ 4 KiB) `checkPostgresStatement` accepted → the SQL it returned; at most 1,000. */
const ACCEPTED_PG = lru<string, string>(1_000);

async function parsePostgresStatement(sql: string): Promise<ConnectorResult<{ sql: string }>> {
  const p = await pgParser();
  let tree: { stmts?: { stmt?: PgNode }[] };
  try {
    tree = p.parseSync(sql) as unknown as typeof tree;
  } catch {
    return refuse("it does not parse as PostgreSQL");
  }
  const stmts = tree.stmts ?? [];
  if (stmts.length !== 1) return refuse(stmts.length === 0 ? "empty statement" : "more than one statement");
  const stmt = stmts[0]!.stmt ?? {};
  const kinds = Object.keys(stmt);
  if (kinds.length !== 1 || kinds[0] !== "SelectStmt") return refuse(`only generated SELECT statements are allowed (got ${kinds[0] ?? "nothing"})`);
  const why = walkPg(stmt, 0);
  if (why) return refuse(why);
  return ok({ sql: sql.trim().replace(/;\s*$/, "").trimEnd() });
}

const pgPrelude = (timeout: number) => ["BEGIN READ ONLY", `SET LOCAL statement_timeout = ${timeout}`, `SET LOCAL idle_in_transaction_session_timeout = ${timeout * 2}`];
type Prelude = { timeout: number; answers: Promise<PromiseSettledResult<unknown>[]> };
/** Writes the three prelude statements at once (pipeline mode); their answers settle together. */
const sendPrelude = (client: pg.ClientBase, timeout: number): Prelude => ({ timeout, answers: Promise.allSettled(pgPrelude(timeout).map((text) => client.query(text))) });
/** The READ ONLY transaction a read opened ahead for the next read on the same client (`openNext`). */
const OPENED_AHEAD = new WeakMap<pg.ClientBase, Prelude>();

/**
 * PostgreSQL (also Redshift/Supabase): BEGIN READ ONLY; SET LOCAL statement_timeout; the query
 * wrapped in `SELECT * FROM (…) LIMIT $n` (extended protocol, so the server also refuses a
 * second statement); ROLLBACK whatever happens.
 *
 * On a client in pipeline mode (`pipeline: true`, as the drivers open theirs) the same messages
 * take fewer round trips, in the same order: BEGIN and both SET LOCALs are written together, and
 * the query is sent only once all three succeeded and the server reports a transaction in
 * progress; the ROLLBACK is written right behind the query (the server runs it after the query,
 * whatever the query did) and awaited before this returns. With `openNext`, the next read's
 * BEGIN and SET LOCALs are written right behind that ROLLBACK (an empty READ ONLY transaction
 * holds no snapshot and no lock), so each following read is one round trip; the next read checks
 * their answers as it would its own. A transaction opened ahead that no read takes ends with the
 * connection.
 */
export async function runPostgresReadOnly(client: pg.ClientBase, sql: string, opts: ReadOnlyOptions): Promise<Rows> {
  const checked = await checkPostgresStatement(sql);
  if (!checked.ok) throw new SafeModeRefusal(checked.error.message);
  const maxRows = Math.max(0, Math.floor(opts.maxRows));
  const timeout = Math.max(1, Math.floor(opts.timeoutMs));
  const params = opts.params ?? [];
  const limited = `SELECT * FROM (\n${checked.value.sql}\n) AS aam_safe_mode LIMIT $${params.length + 1}`;
  // the byte cap, server-side: only the rows whose running size (the text of the whole row, as
  // it would cross the wire, decompressed) stays within maxBytes are sent; a huge value never is
  const maxBytes = opts.maxBytes === undefined ? undefined : Math.max(0, Math.floor(opts.maxBytes));
  const query: pg.QueryConfig =
    maxBytes === undefined
      ? ({ text: limited, values: [...params, maxRows], queryMode: "extended" } as pg.QueryConfig)
      : ({
          text:
            `SELECT * FROM (SELECT aam_rows.*, sum(octet_length(aam_rows::text)) OVER (ROWS UNBOUNDED PRECEDING) AS ${PG_BYTES_COLUMN} ` +
            `FROM (${limited}) AS aam_rows) AS aam_capped WHERE ${PG_BYTES_COLUMN} <= $${params.length + 2}`,
          values: [...params, maxRows, maxBytes],
          queryMode: "extended",
        } as pg.QueryConfig);
  let rows: Rows;
  if ((client as pg.Client).pipeline === true) {
    let prelude = OPENED_AHEAD.get(client);
    OPENED_AHEAD.delete(client);
    if (prelude && prelude.timeout !== timeout) {
      // opened for another timeout: end it, open this read's own
      await prelude.answers;
      await client.query("ROLLBACK").catch(() => undefined);
      prelude = undefined;
    }
    const settled = await (prelude ?? sendPrelude(client, timeout)).answers;
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed || (client as pg.Client).getTransactionStatus() !== "T") {
      await client.query("ROLLBACK").catch(() => undefined);
      throw failed ? failed.reason : new SafeModeRefusal("Safe Mode refused the SQL statement: no READ ONLY transaction is open");
    }
    const answer = client.query(query);
    const rollback = client.query("ROLLBACK").catch(() => undefined);
    if (opts.openNext) {
      const next = sendPrelude(client, timeout);
      next.answers.catch(() => undefined);
      OPENED_AHEAD.set(client, next);
    }
    try {
      rows = (await answer).rows;
    } finally {
      await rollback;
    }
  } else {
    const prelude = pgPrelude(timeout);
    await client.query(prelude[0]!);
    try {
      await client.query(prelude[1]!);
      await client.query(prelude[2]!);
      rows = (await client.query(query)).rows;
    } finally {
      await client.query("ROLLBACK").catch(() => undefined);
    }
  }
  if (maxBytes === undefined) return rows.slice(0, maxRows);
  return rows.slice(0, maxRows).map((r) => {
    delete r[PG_BYTES_COLUMN];
    return r;
  });
}

// ------------------------------------------------------------------ MySQL / MariaDB: generated shapes only

/** Reads one backtick-quoted identifier at `i` the way MySQL's lexer does (`` is a quote); returns the index after it. */
function mysqlIdentEnd(sql: string, i: number): number | undefined {
  if (sql[i] !== "`") return undefined;
  let j = i + 1;
  let len = 0;
  while (j < sql.length) {
    if (sql[j] === "`") {
      if (sql[j + 1] === "`") {
        j += 2;
        len++;
        continue;
      }
      return len > 0 && len <= 64 ? j + 1 : undefined;
    }
    if (sql[j] === "\0") return undefined;
    j++;
    len++;
  }
  return undefined;
}

/** `SELECT * FROM `s`.`t` LIMIT n` with identifiers lexed exactly as MySQL lexes them. */
function isMysqlSampleShape(sql: string): boolean {
  const head = "SELECT * FROM ";
  if (!sql.startsWith(head)) return false;
  const a = mysqlIdentEnd(sql, head.length);
  if (a === undefined || sql[a] !== ".") return false;
  const b = mysqlIdentEnd(sql, a + 1);
  if (b === undefined) return false;
  const m = /^ LIMIT ([1-9]\d?)$/.exec(sql.slice(b));
  return !!m && Number(m[1]) <= MAX_SAMPLE_LIMIT;
}

/**
 * MySQL/MariaDB has no parser binding here, so the guard allows only the generated shapes: one
 * of the fixed catalog/health texts (with their `?` lists) or the sample shape. Nothing else is sent.
 */
export function checkMysqlStatement(sql: string): ConnectorResult<{ sql: string }> {
  if (typeof sql !== "string") return refuse("not a string");
  if (MYSQL_FIXED_STATEMENTS.has(collapsePlaceholders(sql)) || isMysqlSampleShape(sql)) return ok({ sql });
  return refuse("only the driver's generated statements are allowed");
}

export type MysqlFlavor = "mysql" | "mariadb";

/** The bytes a row's values take (strings in UTF-8, buffers as they are, 8 for anything else). */
export function rowBytes(row: Record<string, unknown>): number {
  let n = 0;
  for (const v of Object.values(row)) {
    if (typeof v === "string") n += Buffer.byteLength(v);
    else if (v instanceof Uint8Array) n += v.byteLength;
    else n += 8;
  }
  return n;
}

type RowStream = { on(event: "result", fn: (row: Record<string, unknown>) => void): RowStream; on(event: "error", fn: (e: unknown) => void): RowStream; on(event: "end", fn: () => void): RowStream };
type CoreMysql = {
  execute(o: { sql: string; values: unknown[]; timeout: number }): RowStream;
  destroy(): void;
  once(event: "error", fn: (e: unknown) => void): unknown;
  removeListener(event: "error", fn: (e: unknown) => void): unknown;
};

/**
 * The byte cap for MySQL/MariaDB (no server-side way without the column list): rows are read one
 * at a time as they arrive and, once the next one would pass `maxBytes`, the connection is
 * destroyed, so the rest of the result set is never read. The session is then unusable: the
 * caller's read is the last one (sampleSql stops once its byte budget is spent).
 */
function streamMysqlRows(conn: MysqlConnection, sql: string, values: unknown[], timeout: number, maxRows: number, maxBytes: number): Promise<Rows> {
  const core = (conn as unknown as { connection: CoreMysql }).connection;
  return new Promise<Rows>((resolve, reject) => {
    const out: Rows = [];
    let bytes = 0;
    let done = false;
    // a lost connection (closed by an abort) is told to the connection, not to a streaming command
    const lost = (e: unknown) => {
      if (!done) reject(e);
      done = true;
    };
    core.once("error", lost);
    const settle = () => core.removeListener("error", lost);
    core
      .execute({ sql, values, timeout })
      .on("result", (row) => {
        if (done) return;
        const size = rowBytes(row);
        if (bytes + size > maxBytes) {
          done = true;
          settle();
          core.destroy();
          resolve(Object.assign(out, { cutAtByteCap: true as const }));
          return;
        }
        bytes += size;
        if (out.length < maxRows) out.push(row);
      })
      .on("error", (e) => {
        settle();
        if (!done) reject(e);
        done = true;
      })
      .on("end", () => {
        settle();
        if (!done) resolve(out);
        done = true;
      });
  });
}

/** Connections whose session default is READ ONLY (`startMysqlAttempt`): the guard made it so. */
const READ_ONLY_SESSIONS = new WeakSet<MysqlConnection>();
/** Connections on which one onboarding attempt's reads share one READ ONLY transaction (`startMysqlAttempt`). */
const ATTEMPT_TRANSACTIONS = new WeakSet<MysqlConnection>();

/**
 * For a connection that serves one onboarding attempt's reads (health, catalog, samples): the
 * session default READ ONLY, then ONE START TRANSACTION READ ONLY that all of them run in. What
 * MySQL does not roll back — the session's statement timeout and row limit — is still set again
 * for each read. A read that fails ends that transaction (ROLLBACK), and any read after it runs
 * in its own, as standalone reads do. The transaction ends with the connection (or its first
 * failure); a stored function cannot end or change it (no COMMIT/ROLLBACK inside a function, no
 * changing the access mode of a transaction in progress).
 */
/**
 * MariaDB's per-statement limits, generated from two integers (never from the intent): the
 * statement timeout and the row limit, in force for the one statement that follows `FOR`.
 */
export function mariadbLimitsPrefix(timeoutMs: number, maxRows: number): string {
  return `SET STATEMENT max_statement_time = ${(Math.max(1, Math.floor(timeoutMs)) / 1000).toFixed(3)}, sql_select_limit = ${Math.max(1, Math.floor(maxRows))} FOR `;
}

/** A MariaDB prepared statement split into its generated limits and the checked statement, or undefined. */
export function splitMariadbLimits(sql: string): { timeoutS: number; maxRows: number; statement: string } | undefined {
  const m = /^SET STATEMENT max_statement_time = (\d+\.\d{3}), sql_select_limit = (\d+) FOR ([\s\S]+)$/.exec(sql);
  return m ? { timeoutS: Number(m[1]), maxRows: Number(m[2]), statement: m[3]! } : undefined;
}

export async function startMysqlAttempt(conn: MysqlConnection): Promise<void> {
  await conn.query("SET SESSION TRANSACTION READ ONLY");
  READ_ONLY_SESSIONS.add(conn);
  await conn.query("START TRANSACTION READ ONLY");
  ATTEMPT_TRANSACTIONS.add(conn);
}

/**
 * MySQL/MariaDB: session READ ONLY + START TRANSACTION READ ONLY, a server-side statement
 * timeout and sql_select_limit as the row limit (MariaDB: `SET STATEMENT max_statement_time,
 * sql_select_limit FOR` the statement; MySQL: a SET SESSION of max_execution_time and
 * sql_select_limit before it), ROLLBACK whatever happens (on an attempt's connection, `startMysqlAttempt`: inside
 * the attempt's READ ONLY transaction, rolled back on a failure). The statement is a server-side
 * prepared statement (COM_STMT_PREPARE): parameters are bound, never spliced into the text.
 */
export async function runMysqlReadOnly(conn: MysqlConnection, flavor: MysqlFlavor, sql: string, opts: ReadOnlyOptions): Promise<Rows> {
  const checked = checkMysqlStatement(sql);
  if (!checked.ok) throw new SafeModeRefusal(checked.error.message);
  const maxRows = Math.max(0, Math.floor(opts.maxRows));
  const timeout = Math.max(1, Math.floor(opts.timeoutMs));
  const shared = ATTEMPT_TRANSACTIONS.has(conn);
  let done = false;
  try {
    if (!READ_ONLY_SESSIONS.has(conn)) await conn.query("SET SESSION TRANSACTION READ ONLY");
    let sql = checked.value.sql;
    if (flavor === "mariadb") {
      // MariaDB: the limits travel with the statement (SET STATEMENT … FOR, prepared as one): they
      // hold for this statement only, and cost no round trip of their own
      sql = `${mariadbLimitsPrefix(timeout, maxRows)}${sql}`;
    } else {
      // both limits in one statement (a SET whose assignment fails changes none of them)
      await conn.query(`SET SESSION max_execution_time = ${timeout}, SESSION sql_select_limit = ${Math.max(1, maxRows)}`);
    }
    if (!shared) await conn.query("START TRANSACTION READ ONLY");
    // Client-side backstop a little after the server's own limit.
    let rows: Rows;
    if (opts.maxBytes !== undefined) rows = await streamMysqlRows(conn, sql, opts.params ?? [], timeout + 2_000, maxRows, Math.max(0, Math.floor(opts.maxBytes)));
    else {
      const [result] = await conn.execute({ sql, values: (opts.params ?? []) as never, timeout: timeout + 2_000 });
      rows = Array.isArray(result) ? (result as Rows).slice(0, maxRows) : [];
    }
    done = true;
    return rows;
  } finally {
    if (!shared || !done) {
      ATTEMPT_TRANSACTIONS.delete(conn);
      await conn.query("ROLLBACK").catch(() => undefined);
    }
  }
}

/**
 * Stream names are `schema.table`; a part that contains `.` or `"` is written quoted so the
 * name can be split back without guessing.
 */
export function formatStreamName(schema: string, table: string): string {
  const part = (s: string) => (/[."]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `${part(schema)}.${part(table)}`;
}

export function parseStreamName(name: string): { schema?: string; table: string } {
  const parts: string[] = [];
  let i = 0;
  while (i < name.length && parts.length < 3) {
    if (name[i] === '"') {
      let j = i + 1;
      let buf = "";
      while (j < name.length) {
        if (name[j] === '"' && name[j + 1] === '"') {
          buf += '"';
          j += 2;
        } else if (name[j] === '"') break;
        else buf += name[j++];
      }
      parts.push(buf);
      i = j + 2; // closing quote and the dot
    } else {
      const dot = name.indexOf(".", i);
      if (dot === -1 || parts.length === 1) {
        parts.push(name.slice(i));
        break;
      }
      parts.push(name.slice(i, dot));
      i = dot + 1;
    }
  }
  return parts.length >= 2 ? { schema: parts[0], table: parts[1]! } : { table: parts[0] ?? name };
}
