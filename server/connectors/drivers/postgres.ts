/**
 * PostgreSQL driver (also Supabase and Redshift): pg over TCP to the egress-checked address,
 * every statement through the SQL guard (READ ONLY transaction, statement timeout, row limit).
 */
import pg from "pg";
import { err, ok } from "../../lib/result";
import { SafeModeRefusal, checkReadOnlySql, runPostgresReadOnly } from "../safe-mode/sql-guard";
import { configuredSchemas, discoverSql, sampleSql, type SqlSession } from "../safe-mode/sql-session";
import { resolveSqlTarget, type SqlTarget } from "../safe-mode/sql-target";
import type { ConnectorContext, ConnectorFailure, ConnectorResult, SourceAdapter } from "../types";

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EAI_AGAIN", "EPIPE", "ECONNABORTED"]);

/** Maps a pg/socket error to a typed failure; messages never carry the URL or password. */
export function mapPgError(e: unknown): ConnectorFailure {
  if (e instanceof SafeModeRefusal) return { kind: "safe_mode", message: e.message };
  const x = e as { code?: string; message?: string };
  const code = x?.code ?? "";
  const message = String(x?.message ?? e).slice(0, 300);
  if (code === "28P01" || code === "28000" || /password authentication failed|no pg_hba\.conf entry|role .* does not exist/i.test(message)) {
    return { kind: "auth", message: `authentication failed: ${message}` };
  }
  if (code === "42501") return { kind: "auth", message: `permission denied: ${message}` };
  if (code === "25006") return { kind: "safe_mode", message: `the server refused a write in the read-only transaction: ${message}` };
  if (code === "57014" || code === "ETIMEDOUT" || /timeout|timed out/i.test(message)) return { kind: "timeout", message: `timed out: ${message}` };
  if (NETWORK_CODES.has(code) || /connection terminated|ssl/i.test(message)) return { kind: "network", message: `network error: ${message}` };
  return { kind: "other", message };
}

function sslOf(t: SqlTarget, ctx: ConnectorContext): pg.ClientConfig["ssl"] {
  const mode = t.params.get("sslmode") ?? (ctx.config.ssl === true ? "require" : ctx.config.ssl === false ? "disable" : undefined);
  if (!mode || mode === "disable" || mode === "allow" || mode === "prefer") return false;
  // We connect to the checked address, so name verification needs the original host name.
  return { rejectUnauthorized: mode === "verify-ca" || mode === "verify-full", servername: t.host };
}

/** Opens a client on the checked target, runs `fn`, always closes. */
export async function withPostgres<T>(ctx: ConnectorContext, fn: (session: SqlSession, client: pg.Client) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  const target = await resolveSqlTarget(ctx, "postgresql");
  if (!target.ok) return target;
  const t = target.value;
  const timeout = ctx.policy.requestTimeoutMs;
  const client = new pg.Client({
    host: t.address,
    port: t.port ?? 5432,
    user: t.user,
    password: t.password ?? "",
    database: t.database,
    ssl: sslOf(t, ctx),
    connectionTimeoutMillis: timeout,
    query_timeout: timeout + 2_000,
    application_name: "aam-safe-mode",
  });
  client.on("error", () => undefined); // a dropped socket surfaces through the pending query
  const session: SqlSession = {
    dialect: "postgres",
    read: (sql, o) => runPostgresReadOnly(client, sql, { timeoutMs: timeout, maxRows: o.maxRows, params: o.params }),
  };
  try {
    await client.connect();
    return await fn(session, client);
  } catch (e) {
    return err(mapPgError(e));
  } finally {
    await client.end().catch(() => undefined);
  }
}

const SYSTEM_FILTER = `table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg\\_%'`;

function catalogQueries(ctx: ConnectorContext): { tablesSql: string; columnsSql: string; params: unknown[] } {
  const schemas = configuredSchemas(ctx.config);
  const where = schemas ? `table_schema = ANY($1::text[])` : SYSTEM_FILTER;
  return {
    tablesSql: `SELECT table_schema, table_name FROM information_schema.tables WHERE ${where} AND table_type IN ('BASE TABLE', 'VIEW', 'FOREIGN') ORDER BY table_schema, table_name`,
    columnsSql: `SELECT table_schema, table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE ${where} ORDER BY table_schema, table_name, ordinal_position`,
    params: schemas ? [schemas] : [],
  };
}

/** Guards a caller-supplied sample_query before any connection is opened. */
export function precheckSampleQuery(ctx: ConnectorContext, dialect: "postgres" | "mysql"): ConnectorResult<void> {
  if (ctx.config.sample_query === undefined) return ok(undefined);
  if (typeof ctx.config.sample_query !== "string") return err({ kind: "safe_mode", message: "config.sample_query must be a string" });
  const c = checkReadOnlySql(ctx.config.sample_query, dialect);
  return c.ok ? ok(undefined) : c;
}

export const postgresAdapter: SourceAdapter = {
  async healthCheck(ctx) {
    const started = performance.now();
    return withPostgres(ctx, async (s) => {
      const [row] = await s.read("SELECT 1 AS ok, current_setting('server_version') AS version", { maxRows: 1 });
      return ok({ latencyMs: Math.round(performance.now() - started), detail: `PostgreSQL ${String(row?.version ?? "")}`.trim() });
    });
  },
  async discover(ctx) {
    return withPostgres(ctx, (s) => discoverSql(s, ctx, catalogQueries(ctx)));
  },
  async sample(ctx, schema) {
    const pre = precheckSampleQuery(ctx, "postgres");
    if (!pre.ok) return pre;
    return withPostgres(ctx, async (s) => {
      if (schema.streams.length === 0 && ctx.config.sample_query === undefined) {
        const d = await discoverSql(s, ctx, catalogQueries(ctx));
        if (!d.ok) return d;
        schema = d.value;
      }
      return sampleSql(s, ctx, schema);
    });
  },
};
