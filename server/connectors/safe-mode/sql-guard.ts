/**
 * Safe Mode for SQL (DESIGN.md "Safe Mode"): the one place every SQL driver goes through.
 *
 * Two layers, so that neither has to be perfect:
 *  1. `checkReadOnlySql` — a lexical check that accepts a single read statement (SELECT, WITH …
 *     SELECT, SHOW, EXPLAIN without ANALYZE) and refuses everything else with a `safe_mode`
 *     failure before anything is sent to the server. Comments and string literals are removed
 *     first, under every quoting interpretation the server might use, so a keyword cannot hide
 *     in a literal and a literal cannot hide a statement.
 *  2. `runPostgresReadOnly` / `runMysqlReadOnly` — execute inside a READ ONLY transaction with a
 *     statement timeout and a row limit, always rolled back. This catches what a lexer cannot
 *     see (a user-defined function that writes).
 */
import type pg from "pg";
import type { Connection as MysqlConnection } from "mysql2/promise";
import { err, ok } from "../../lib/result";
import type { ConnectorResult } from "../types";

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

/** Quotes an identifier for the dialect (doubling the quote character). */
export function quoteIdent(name: string, dialect: SqlDialect): string {
  return dialect === "mysql" ? `\`${name.replace(/`/g, "``")}\`` : `"${name.replace(/"/g, '""')}"`;
}

export type ReadOnlyOptions = { timeoutMs: number; maxRows: number; params?: unknown[] };
export type Rows = Record<string, unknown>[];

/** A failure thrown by a guarded executor is a value the driver maps; keep the safe_mode kind. */
export class SafeModeRefusal extends Error {
  readonly kind = "safe_mode" as const;
}

/**
 * PostgreSQL (also Redshift/Supabase): BEGIN READ ONLY; SET LOCAL statement_timeout; the query
 * wrapped in `SELECT * FROM (…) LIMIT $n` (extended protocol, so the server also refuses a
 * second statement); ROLLBACK whatever happens.
 */
export async function runPostgresReadOnly(client: pg.ClientBase, sql: string, opts: ReadOnlyOptions): Promise<Rows> {
  const checked = checkReadOnlySql(sql, "postgres");
  if (!checked.ok) throw new SafeModeRefusal(checked.error.message);
  const maxRows = Math.max(0, Math.floor(opts.maxRows));
  const timeout = Math.max(1, Math.floor(opts.timeoutMs));
  const params = opts.params ?? [];
  await client.query("BEGIN READ ONLY");
  try {
    await client.query(`SET LOCAL statement_timeout = ${timeout}`);
    await client.query(`SET LOCAL idle_in_transaction_session_timeout = ${timeout * 2}`);
    let rows: Rows;
    if (checked.value.kind === "select") {
      const text = `SELECT * FROM (\n${checked.value.sql}\n) AS aam_safe_mode LIMIT $${params.length + 1}`;
      rows = (await client.query({ text, values: [...params, maxRows], queryMode: "extended" } as pg.QueryConfig)).rows;
    } else {
      rows = (await client.query({ text: checked.value.sql, values: params, queryMode: "extended" } as pg.QueryConfig)).rows;
    }
    return rows.slice(0, maxRows);
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
  }
}

export type MysqlFlavor = "mysql" | "mariadb";

/**
 * MySQL/MariaDB: session READ ONLY + START TRANSACTION READ ONLY, a server-side statement
 * timeout (max_statement_time on MariaDB, max_execution_time on MySQL), sql_select_limit as the
 * row limit (so no wrapping that would break duplicate column names), ROLLBACK whatever happens.
 */
export async function runMysqlReadOnly(conn: MysqlConnection, flavor: MysqlFlavor, sql: string, opts: ReadOnlyOptions): Promise<Rows> {
  const checked = checkReadOnlySql(sql, "mysql");
  if (!checked.ok) throw new SafeModeRefusal(checked.error.message);
  const maxRows = Math.max(0, Math.floor(opts.maxRows));
  const timeout = Math.max(1, Math.floor(opts.timeoutMs));
  await conn.query("SET SESSION TRANSACTION READ ONLY");
  if (flavor === "mariadb") await conn.query(`SET SESSION max_statement_time = ${(timeout / 1000).toFixed(3)}`);
  else await conn.query(`SET SESSION max_execution_time = ${timeout}`);
  await conn.query(`SET SESSION sql_select_limit = ${Math.max(1, maxRows)}`);
  await conn.query("START TRANSACTION READ ONLY");
  try {
    // Client-side backstop a little after the server's own limit.
    const [rows] = await conn.query({ sql: checked.value.sql, values: opts.params ?? [], timeout: timeout + 2_000 });
    return Array.isArray(rows) ? (rows as Rows).slice(0, maxRows) : [];
  } finally {
    await conn.query("ROLLBACK").catch(() => undefined);
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
