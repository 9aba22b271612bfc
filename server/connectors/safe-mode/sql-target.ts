/**
 * Where a SQL driver is about to connect, decided in one place: the connection URL (secret
 * dsn/url/token, or config host/port/database/user + secret password), the egress check on its
 * host, and the per-connection rate cap. Drivers connect to the checked address, not the name,
 * so a DNS answer cannot change between the check and the connection.
 */
import { err, ok } from "../../lib/result";
import type { ConnectorContext, ConnectorResult } from "../types";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
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

// ------------------------------------------------------------------ TLS for database sources

/** What the URL/config asked for: nothing, plain, TLS without verification, or verified TLS. */
export type TlsRequest = "default" | "disable" | "require" | "verify";

/** The TLS a database connection uses: verified TLS to every non-loopback address. */
export type DbTls = { tls: false } | { tls: true; verify: boolean; servername: string };

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, "");
  if (!ipaddr.isValid(a)) return false;
  let ip = ipaddr.parse(a);
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() === "loopback";
}

/**
 * The TLS decision for postgres/mysql/mongo (issue 8 item 10): a loopback address may be plain
 * (or whatever the URL asked for); any other address always gets TLS with certificate and host
 * name verification against the host name (the connection goes to the vetted address, so the
 * name is passed as servername). `sslmode=disable`, `prefer` or `require` cannot lower that.
 */
export function databaseTls(host: string, address: string, requested: TlsRequest): DbTls {
  if (isLoopbackAddress(address)) {
    if (requested === "require") return { tls: true, verify: false, servername: host };
    if (requested === "verify") return { tls: true, verify: true, servername: host };
    return { tls: false };
  }
  return { tls: true, verify: true, servername: host };
}

/** Reads sslmode / sslMode / ssl-mode / useSSL / config.ssl into a TlsRequest. */
export function tlsRequestOf(params: URLSearchParams, config: Record<string, unknown>): TlsRequest {
  const mode = (params.get("sslmode") ?? params.get("sslMode") ?? params.get("ssl-mode") ?? "").toLowerCase();
  if (["verify-ca", "verify-full", "verify_ca", "verify_identity"].includes(mode)) return "verify";
  if (["require", "required"].includes(mode) || params.get("useSSL") === "true" || params.get("ssl") === "true" || config.ssl === true) return "require";
  if (["disable", "disabled"].includes(mode) || config.ssl === false) return "disable";
  return "default";
}
