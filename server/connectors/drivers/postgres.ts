/**
 * PostgreSQL driver (also Supabase and Redshift): pg over TCP to the vetted address (TLS with
 * verification against the host name unless the address is loopback), every statement generated
 * by sql-statements.ts and checked by the SQL guard (PostgreSQL's own parser; READ ONLY
 * transaction, statement timeout, row limit). An intent contributes no SQL.
 */
import pg from "pg";
import { err, ok } from "../../lib/result";
import { SafeModeRefusal, runPostgresReadOnly } from "../safe-mode/sql-guard";
import { configuredSchemas, sqlAdapter, type OpenSql, type SqlSession } from "../safe-mode/sql-session";
import { PG_HEALTH_SQL, postgresCatalogQueries } from "../safe-mode/sql-statements";
import { databaseTls, resolveSqlTarget, tlsRequestOf, type SqlTarget } from "../safe-mode/sql-target";
import type { ConnectorContext, ConnectorFailure, ConnectorResult, HealthInfo, SourceAdapter } from "../types";

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EAI_AGAIN", "EPIPE", "ECONNABORTED"]);

/** A few SQLSTATE condition names (PostgreSQL Appendix A), so the short code reads as words. */
const SQLSTATE_NAMES: Record<string, string> = {
  "28P01": "invalid_password",
  "28000": "invalid_authorization_specification",
  "3D000": "invalid_catalog_name",
  "42501": "insufficient_privilege",
  "42P01": "undefined_table",
  "42703": "undefined_column",
  "42883": "undefined_function",
  "42601": "syntax_error",
  "22P02": "invalid_text_representation",
  "25006": "read_only_sql_transaction",
  "57014": "query_canceled",
  "53300": "too_many_connections",
  "57P03": "cannot_connect_now",
};
const SQLSTATE_RE = /^[0-9A-Z]{5}$/;

/**
 * Maps a pg/socket error to a kind plus the short code (SQLSTATE, or the socket/TLS error code).
 * The server's message text is never used: it can echo values (the CAST trick put role names
 * into "invalid input syntax for type integer: …").
 */
export function mapPgError(e: unknown): ConnectorFailure {
  if (e instanceof SafeModeRefusal) return { kind: "safe_mode", message: e.message };
  const x = e as { code?: unknown; message?: unknown };
  const code = typeof x?.code === "string" ? x.code : "";
  const msg = typeof x?.message === "string" ? x.message : "";
  if (SQLSTATE_RE.test(code)) {
    const tag = `SQLSTATE ${code}${SQLSTATE_NAMES[code] ? ` ${SQLSTATE_NAMES[code]}` : ""}`;
    if (code === "28P01" || code === "28000") return { kind: "auth", message: `PostgreSQL refused the credentials (${tag})` };
    if (code === "42501") return { kind: "auth", message: `PostgreSQL denied access (${tag})` };
    if (code === "25006") return { kind: "safe_mode", message: `PostgreSQL refused a write in the read-only transaction (${tag})` };
    if (code === "57014") return { kind: "timeout", message: `PostgreSQL cancelled the statement at the Safe Mode timeout (${tag})` };
    if (code.startsWith("08") || code === "53300" || code === "57P03") return { kind: "network", message: `PostgreSQL connection failure (${tag})` };
    return { kind: "other", message: `PostgreSQL error (${tag})` };
  }
  if (NETWORK_CODES.has(code)) return { kind: "network", message: `network error (${code})` };
  if (code === "ETIMEDOUT" || /timeout|timed out/i.test(msg)) return { kind: "timeout", message: "timed out connecting to or reading from PostgreSQL" };
  if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(code)) return { kind: "network", message: `TLS verification failed (${code})` };
  if (/does not support SSL/i.test(msg)) return { kind: "network", message: "TLS required: the server does not offer TLS" };
  if (/connection terminated|ssl/i.test(msg)) return { kind: "network", message: "network error (connection terminated)" };
  return { kind: "other", message: `PostgreSQL driver error${code ? ` (${code})` : ""}` };
}

/** pg's ssl option from the TLS decision (sql-target.ts databaseTls). */
export function pgSslOf(t: Pick<SqlTarget, "host" | "address" | "params">, ctx: Pick<ConnectorContext, "config" | "secret">): pg.ClientConfig["ssl"] {
  const d = databaseTls(t.host, t.address, tlsRequestOf(t.params, ctx.config));
  if (!d.tls) return false;
  // We connect to the vetted address, so verification needs the original host name.
  return { rejectUnauthorized: d.verify, servername: d.servername, ...(ctx.secret.ca_cert ? { ca: ctx.secret.ca_cert } : {}) };
}

/** How long a graceful close may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 1_000;

/**
 * Opens a client on the checked target, in pipeline mode (sql-guard.ts runPostgresReadOnly: a
 * guarded read takes two round trips, one when the read before it opened its transaction ahead,
 * as an attempt's reads do). An aborted `ctx.signal` destroys the socket at once (whatever is in
 * flight fails); `close` is idempotent and bounded.
 */
async function openPostgres(ctx: ConnectorContext, opts: { attempt: boolean }): Promise<ConnectorResult<OpenSql>> {
  const target = await resolveSqlTarget(ctx, "postgresql");
  if (!target.ok) return target;
  const t = target.value;
  const timeout = ctx.policy.requestTimeoutMs;
  // user, password and database come from the connection alone: pg fills a missing or empty one
  // from this process's PGUSER/PGPASSWORD/PGDATABASE and ~/.pgpass — the server's own database
  // login, sent to whatever host the connection names (trust-boundary audit)
  if (!t.user) return err({ kind: "auth", message: "no database user: name it in config.user, or in the secret (user, or the DSN's)" });
  const password = t.password ?? "";
  const client = new pg.Client({
    host: t.address,
    port: t.port ?? 5432,
    user: t.user,
    // a function is asked only when the server wants a password, and pg never looks further
    password: () => password,
    database: t.database ?? t.user,
    ssl: pgSslOf(t, ctx),
    connectionTimeoutMillis: timeout,
    query_timeout: timeout + 2_000,
    application_name: "aam-safe-mode",
    pipeline: true,
  });
  client.on("error", () => undefined); // a dropped socket surfaces through the pending query
  const destroy = () => (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  const signal = ctx.signal;
  const onAbort = () => destroy();
  let closed: Promise<void> | undefined;
  // Terminate is written and the socket ended at once; the server's side of the close is not
  // waited for (its backend's exit is its own), but a server that never closes is cut off
  const close = () =>
    (closed ??= (async () => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) return destroy();
      const grace = setTimeout(destroy, CLOSE_GRACE_MS);
      grace.unref?.();
      client.end().then(
        () => clearTimeout(grace),
        () => destroy(),
      );
    })());
  if (signal?.aborted) return err({ kind: "network", message: "the attempt was stopped before connecting to PostgreSQL" });
  signal?.addEventListener("abort", onAbort, { once: true });
  const session: SqlSession = {
    dialect: "postgres",
    // an attempt's reads follow one another (health, catalog, samples): each opens the next one's transaction
    read: (sql, o) => runPostgresReadOnly(client, sql, { timeoutMs: timeout, maxRows: o.maxRows, maxBytes: o.maxBytes, params: o.params, openNext: opts.attempt }),
  };
  try {
    await client.connect();
  } catch (e) {
    await close();
    return err(mapPgError(e));
  }
  return ok({ session, close });
}

const catalogQueries = (ctx: ConnectorContext) => postgresCatalogQueries(configuredSchemas(ctx.config));

async function pgHealth(s: SqlSession, since: number): Promise<ConnectorResult<HealthInfo>> {
  const [row] = await s.read(PG_HEALTH_SQL, { maxRows: 1 });
  return ok({ latencyMs: Math.round(performance.now() - since), detail: `PostgreSQL ${String(row?.version ?? "")}`.trim() });
}

/** health, discovery and sample: one connection per call, or one for the whole attempt */
export const postgresAdapter: SourceAdapter = sqlAdapter({ open: openPostgres, catalog: catalogQueries, health: pgHealth, mapError: mapPgError });
