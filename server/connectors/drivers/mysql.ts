/**
 * MySQL/MariaDB driver (reached through jdbc): mysql2 to the egress-checked address, no
 * multi-statements, no LOCAL INFILE, every statement through the SQL guard.
 */
import mysql from "mysql2/promise";
import { err, ok } from "../../lib/result";
import { SafeModeRefusal, runMysqlReadOnly, type MysqlFlavor } from "../safe-mode/sql-guard";
import { configuredSchemas, discoverSql, sampleSql, type SqlSession } from "../safe-mode/sql-session";
import { parseSqlTarget, resolveSqlTarget } from "../safe-mode/sql-target";
import type { ConnectorContext, ConnectorFailure, ConnectorResult, SourceAdapter } from "../types";
import { precheckSampleQuery } from "./postgres";

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EAI_AGAIN", "EPIPE", "PROTOCOL_CONNECTION_LOST"]);
const AUTH_CODES = new Set(["ER_ACCESS_DENIED_ERROR", "ER_DBACCESS_DENIED_ERROR", "ER_TABLEACCESS_DENIED_ERROR", "ER_ACCESS_DENIED_NO_PASSWORD_ERROR", "ER_NOT_SUPPORTED_AUTH_MODE"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "PROTOCOL_SEQUENCE_TIMEOUT", "ER_STATEMENT_TIMEOUT", "ER_QUERY_TIMEOUT"]);

export function mapMysqlError(e: unknown): ConnectorFailure {
  if (e instanceof SafeModeRefusal) return { kind: "safe_mode", message: e.message };
  const x = e as { code?: string; errno?: number; message?: string };
  const code = x?.code ?? "";
  const message = String(x?.message ?? e).slice(0, 300);
  if (AUTH_CODES.has(code) || x?.errno === 1045 || x?.errno === 1044) return { kind: "auth", message: `authentication failed: ${message}` };
  // 1969 MariaDB max_statement_time, 3024 MySQL max_execution_time
  if (TIMEOUT_CODES.has(code) || x?.errno === 1969 || x?.errno === 3024 || /timeout|timed out|max_statement_time/i.test(message)) {
    return { kind: "timeout", message: `timed out: ${message}` };
  }
  if (x?.errno === 1792 || code === "ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION") {
    return { kind: "safe_mode", message: `the server refused a write in the read-only transaction: ${message}` };
  }
  if (NETWORK_CODES.has(code)) return { kind: "network", message: `network error: ${message}` };
  return { kind: "other", message };
}

export async function withMysql<T>(ctx: ConnectorContext, fn: (session: SqlSession) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  const target = await resolveSqlTarget(ctx, "mysql");
  if (!target.ok) return target;
  const t = target.value;
  const timeout = ctx.policy.requestTimeoutMs;
  const sslMode = (t.params.get("sslMode") ?? t.params.get("sslmode") ?? t.params.get("ssl-mode") ?? "").toLowerCase();
  const useSsl = ctx.config.ssl === true || t.params.get("useSSL") === "true" || ["required", "require", "verify_ca", "verify_identity"].includes(sslMode);
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysql.createConnection({
      host: t.address,
      port: t.port ?? 3306,
      user: t.user,
      password: t.password ?? "",
      database: t.database,
      connectTimeout: timeout,
      multipleStatements: false,
      flags: ["-LOCAL_FILES", "-MULTI_STATEMENTS"],
      ssl: useSsl ? ({ rejectUnauthorized: ["verify_ca", "verify_identity"].includes(sslMode), servername: t.host } as mysql.SslOptions) : undefined,
    });
    conn.on("error", () => undefined);
    const c = conn;
    const [versionRows] = await c.query("SELECT VERSION() AS v");
    const version = String((versionRows as { v?: string }[])[0]?.v ?? "");
    const flavor: MysqlFlavor = /mariadb/i.test(version) ? "mariadb" : "mysql";
    const session: SqlSession = {
      dialect: "mysql",
      read: (sql, o) => runMysqlReadOnly(c, flavor, sql, { timeoutMs: timeout, maxRows: o.maxRows, params: o.params }),
    };
    return await fn(session);
  } catch (e) {
    return err(mapMysqlError(e));
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

const SYSTEM_SCHEMAS = ["mysql", "information_schema", "performance_schema", "sys"];

function catalogQueries(ctx: ConnectorContext, database: string | undefined): { tablesSql: string; columnsSql: string; params: unknown[] } {
  // Default scope: the URL's database, else every non-system schema.
  const schemas = configuredSchemas(ctx.config) ?? (database ? [database] : undefined);
  const where = schemas ? `table_schema IN (?)` : `table_schema NOT IN (?)`;
  const params = [schemas ?? SYSTEM_SCHEMAS];
  return {
    tablesSql: `SELECT table_schema AS table_schema, table_name AS table_name FROM information_schema.tables WHERE ${where} AND table_type IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') ORDER BY table_schema, table_name`,
    columnsSql: `SELECT table_schema AS table_schema, table_name AS table_name, column_name AS column_name, data_type AS data_type, is_nullable AS is_nullable FROM information_schema.columns WHERE ${where} ORDER BY table_schema, table_name, ordinal_position`,
    params,
  };
}

function databaseOf(ctx: ConnectorContext): string | undefined {
  const t = parseSqlTarget(ctx, "mysql");
  return t.ok ? t.value.database : undefined;
}

export const mysqlAdapter: SourceAdapter = {
  async healthCheck(ctx) {
    const started = performance.now();
    return withMysql(ctx, async (s) => {
      const [row] = await s.read("SELECT 1 AS ok, VERSION() AS version", { maxRows: 1 });
      return ok({ latencyMs: Math.round(performance.now() - started), detail: String(row?.version ?? "") });
    });
  },
  async discover(ctx) {
    const db = databaseOf(ctx);
    return withMysql(ctx, (s) => discoverSql(s, ctx, catalogQueries(ctx, db)));
  },
  async sample(ctx, schema) {
    const pre = precheckSampleQuery(ctx, "mysql");
    if (!pre.ok) return pre;
    const db = databaseOf(ctx);
    return withMysql(ctx, async (s) => {
      if (schema.streams.length === 0 && ctx.config.sample_query === undefined) {
        const d = await discoverSql(s, ctx, catalogQueries(ctx, db));
        if (!d.ok) return d;
        schema = d.value;
      }
      return sampleSql(s, ctx, schema);
    });
  },
};
