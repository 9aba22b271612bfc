/**
 * Where a SQL driver is about to connect, decided in one place: the connection URL (secret
 * dsn/url/token, or config host/port/database/user + secret password), the egress check on its
 * host, and the per-connection rate cap. Drivers connect to the checked address, not the name,
 * so a DNS answer cannot change between the check and the connection.
 */
import { err, ok } from "../../lib/result";
import type { ConnectorContext, ConnectorResult } from "../types";
import { isIP } from "node:net";
import { checkDestination } from "./destinations";
import { bucketFor } from "./rate-limit";

export type SqlTarget = {
  /** URL scheme without `jdbc:` (postgresql, mysql, mariadb…) */
  scheme: string;
  host: string;
  /** the address the egress guard approved; connect to this */
  address: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  params: URLSearchParams;
};

const URL_LIKE = /^(jdbc:)?[a-z][a-z0-9+.-]*:\/\//i;
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);
const decode = (v: string): string => {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
};

/** The connection URL the secret or config carries, if any (never logged). */
export function connectionUrlOf(ctx: Pick<ConnectorContext, "secret" | "config">): string | undefined {
  const candidates = [ctx.secret.dsn, ctx.secret.url, ctx.secret.token, str(ctx.config.url), str(ctx.config.dsn), str(ctx.config.jdbc_url)];
  return candidates.find((c): c is string => typeof c === "string" && URL_LIKE.test(c.trim()))?.trim();
}

/** Parses the URL or builds the target from config; no network. */
export function parseSqlTarget(ctx: Pick<ConnectorContext, "secret" | "config">, defaultScheme: string): ConnectorResult<Omit<SqlTarget, "address">> {
  const url = connectionUrlOf(ctx);
  const tokenIsUrl = !!ctx.secret.token && URL_LIKE.test(ctx.secret.token.trim());
  const secretPassword = ctx.secret.password ?? (tokenIsUrl ? undefined : ctx.secret.token);
  const configUser = str(ctx.config.user) ?? str(ctx.config.username) ?? ctx.secret.user ?? ctx.secret.username;
  if (url) {
    let u: URL;
    try {
      u = new URL(url.replace(/^jdbc:/i, ""));
    } catch {
      return err({ kind: "other", message: "the connection URL cannot be parsed" });
    }
    if (!u.hostname) return err({ kind: "other", message: "the connection URL has no host" });
    const params = u.searchParams;
    return ok({
      scheme: u.protocol.replace(/:$/, "").toLowerCase(),
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: u.port ? Number(u.port) : undefined,
      user: (u.username ? decode(u.username) : undefined) ?? params.get("user") ?? configUser,
      password: (u.password ? decode(u.password) : undefined) ?? params.get("password") ?? secretPassword,
      database: decode(u.pathname.replace(/^\//, "")) || str(ctx.config.database) || undefined,
      params,
    });
  }
  const host = str(ctx.config.host);
  if (!host) return err({ kind: "other", message: "no connection URL in the secret and no config.host" });
  const port = str(ctx.config.port);
  return ok({
    scheme: defaultScheme,
    host,
    port: port ? Number(port) : undefined,
    user: configUser,
    password: secretPassword,
    database: str(ctx.config.database) ?? str(ctx.config.dbname),
    params: new URLSearchParams(),
  });
}

const defaultPortOf = (scheme: string) => (/^mysql|^mariadb/.test(scheme) ? 3306 : /^redshift/.test(scheme) ? 5439 : 5432);

/** parseSqlTarget + trust boundary + egress guard + rate cap. */
export async function resolveSqlTarget(ctx: ConnectorContext, defaultScheme: string): Promise<ConnectorResult<SqlTarget>> {
  const parsed = parseSqlTarget(ctx, defaultScheme);
  if (!parsed.ok) return parsed;
  const t = parsed.value;
  // A `host=/path` parameter would switch to a Unix socket the egress guard cannot judge.
  if (t.params.has("host") || t.params.has("socketPath") || t.host.startsWith("/")) {
    return err({ kind: "egress_refused", message: "Unix-socket and host-override connection parameters are not allowed" });
  }
  // the trust boundary first: an approved destination (or a vendor host of the entry), nothing else
  const egress = await checkDestination(ctx, t.host, t.port ?? defaultPortOf(defaultScheme));
  if (!egress.ok) return egress;
  // Prefer IPv4 (a name like localhost may list ::1 first while the server only listens on
  // 127.0.0.1); every address was vetted, and the driver connects to the chosen one (pinned).
  const address = egress.value.addresses.find((a) => isIP(a) === 4) ?? egress.value.address;
  const took = await bucketFor(ctx.connectionId, ctx.policy.ratePerMinute).take(ctx.policy.requestTimeoutMs);
  if (!took) return err({ kind: "rate_limited", message: "the per-connection rate cap is exhausted" });
  return ok({ ...t, address });
}
