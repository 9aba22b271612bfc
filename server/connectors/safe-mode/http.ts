/**
 * The one HTTP path of every HTTP adapter (DESIGN.md "Safe Mode"). Everything is enforced here,
 * before a byte leaves the process:
 *  - methods: GET/HEAD; POST only for endpoints the catalog marks as read queries, whose body is
 *    then checked (GraphQL: no mutation/subscription; SQL: a single read statement);
 *  - http/https only; the trust boundary (destinations.ts: catalog vendor hosts or the tenant's
 *    approved destinations, nothing else) and the egress guard on the host of every hop (redirects are followed by hand,
 *    at most 3, and the address the guard vetted is the one we connect to: no DNS rebinding);
 *  - optional host patterns (the catalog's allowedHosts) on every hop;
 *  - the per-connection token bucket, a per-attempt timeout, retries with jittered exponential
 *    backoff that honour Retry-After (cockatiel), a circuit breaker per source host (cockatiel);
 *  - a response byte cap, enforced while streaming (also after decompression).
 * Failures are typed (ConnectorFailure) and never carry a secret: messages name the method, host
 * and path only, and every resolved secret value is scrubbed from them.
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  decorrelatedJitterGenerator,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
} from "cockatiel";
import { lru } from "../../lib/lru";
import { err, ok } from "../../lib/result";
import type { ConnectorContext, ConnectorFailure, ConnectorResult, FailureKind } from "../types";
import { checkDestination } from "./destinations";
import { bucketFor } from "./rate-limit";
import { isReadOnlyGraphql, isReadOnlySql } from "./read-only-body";
import { checkReadOnlySql } from "./sql-guard";

// Keep-alive: a first onboarding makes several requests to one host; reusing the connection saves
// a TCP (and TLS) handshake each. Every request still passes the egress check before it is sent,
// and new sockets connect to the address that check approved (the pinned lookup). A pooled socket
// is reused only for a request whose check approved the same address: Node pools by host and
// port, so a name that resolved to another address for another connection (another tenant's
// grant, a DNS answer that changed) would otherwise get that connection's socket, and its
// credential would reach an address its own grant never approved (trust-boundary audit).
type PinnedOptions = http.ClientRequestArgs & { pinnedAddress?: string };
class PinnedHttpAgent extends http.Agent {
  override getName(options?: PinnedOptions): string {
    return `${super.getName(options)}|${options?.pinnedAddress ?? ""}`;
  }
}
class PinnedHttpsAgent extends https.Agent {
  override getName(options?: PinnedOptions): string {
    return `${super.getName(options as https.RequestOptions)}|${options?.pinnedAddress ?? ""}`;
  }
}
const HTTP_AGENT = new PinnedHttpAgent({ keepAlive: true, maxFreeSockets: 64, timeout: 30_000 });
const HTTPS_AGENT = new PinnedHttpsAgent({ keepAlive: true, maxFreeSockets: 64, timeout: 30_000 });

/** How the catalog marks a POST endpoint as a read query. */
export type ReadOnlyQuery =
  | { kind: "rpc" } // a read-only RPC method (Dropbox list_folder, AWS List*, Slack *.list)
  | { kind: "graphql" } // body {query, variables}: queries only
  | { kind: "sql"; field: string }; // body field holding one SQL statement (Snowflake, BigQuery, SuiteQL)

export type SafeRequest = {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Set only from the catalog's readOnlyPost list; without it a POST is refused. */
  readOnlyQuery?: ReadOnlyQuery;
  /** Host patterns (`api.example.com`, `*.example.com`, optional `:port`) every hop must match. */
  allowedHosts?: string[];
};

export type SafeResponse = {
  status: number;
  url: string; // final URL after redirects
  headers: Record<string, string>;
  body: Buffer;
  text(): string;
  json(): unknown;
};

export type SafeHttpOptions = {
  /** retries after the first attempt (for 429, 5xx and connection resets) */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** a Retry-After above this is not waited for: the call fails as rate_limited at once */
  maxRetryAfterMs: number;
  /** consecutive 429/5xx/network failures on one host that open its breaker */
  breakerThreshold: number;
  /** cool-down before an open breaker lets one trial request through */
  breakerHalfOpenAfterMs: number;
  maxRedirects: number;
  /** the longest we wait for a token from the connection's bucket */
  maxRateWaitMs: number;
  /** hosts with a breaker held at once (LRU past it) */
  maxBreakers: number;
};

export const DEFAULT_SAFE_HTTP_OPTIONS: SafeHttpOptions = {
  retries: 2,
  initialDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 10_000,
  breakerThreshold: 5,
  breakerHalfOpenAfterMs: 30_000,
  maxRedirects: 3,
  maxRateWaitMs: 15_000,
  maxBreakers: 5_000,
};

export type SafeHttp = {
  fetch(ctx: ConnectorContext, req: SafeRequest): Promise<ConnectorResult<SafeResponse>>;
  /** breaker state of a source host (`host:port` as in URL.host); "closed" when none exists yet */
  /** the breaker of `host` for one tenant's connections (`tenantId` as in their ConnectorContext) */
  breakerState(host: string, tenantId?: string): "closed" | "open" | "half-open" | "isolated";
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const SENSITIVE_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);
const MAX_REDIRECT_HOPS_CEILING = 3;
/** Hosts with a circuit breaker per SafeHttp; the least recently used host's breaker goes first past it. */
export const MAX_HOST_BREAKERS = 5_000;

/** A failed attempt, thrown inside the cockatiel policies and turned back into a value at the edge. */
class AttemptError extends Error {
  constructor(
    readonly failure: ConnectorFailure,
    readonly retryable: boolean,
    readonly tripsBreaker: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(failure.message);
  }
}

const fail = (kind: FailureKind, message: string): ConnectorFailure => ({ kind, message });

/** Retry-After as milliseconds: delta-seconds or an HTTP date. undefined when absent or unparseable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** `*.example.com` matches any subdomain (not the apex); an optional `:port` must match exactly. */
export function hostMatches(url: URL, patterns: readonly string[]): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return patterns.some((raw) => {
    const p = raw.toLowerCase();
    const m = /^(.*?)(?::(\d+))?$/.exec(p)!;
    const [pHost, pPort] = [m[1]!, m[2]];
    if (pPort && pPort !== port) return false;
    if (pHost.startsWith("*.")) return host.endsWith(pHost.slice(1)) && host.length > pHost.length - 1;
    return host === pHost;
  });
}

/** Scrubs every resolved secret value (and obvious credentials) out of a message. */
export function redact(message: string, secret: Record<string, string>): string {
  let out = message;
  for (const v of Object.values(secret)) {
    if (typeof v === "string" && v.length >= 4) out = out.split(v).join("[redacted]");
  }
  return out.replace(/(bearer|basic|token|ssws)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "$1 [redacted]");
}

/** What a failure message may say about a URL: never its query string or userinfo. */
const describe = (method: string, url: URL) => `${method} ${url.protocol}//${url.host}${url.pathname}`;

/** Checks that need no network: method, scheme, read-only body, host patterns. */
export function preflight(req: SafeRequest): ConnectorResult<{ method: string; url: URL }> {
  const method = req.method.toUpperCase();
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return err(fail("other", "invalid URL"));
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return err(fail("safe_mode", `scheme ${url.protocol} is refused in Safe Mode (http/https only)`));
  }
  if (url.username || url.password) return err(fail("safe_mode", "credentials in URLs are refused in Safe Mode"));
  if (method !== "GET" && method !== "HEAD") {
    if (method !== "POST") return err(fail("safe_mode", `${method} is refused in Safe Mode (read-only: GET/HEAD)`));
    if (!req.readOnlyQuery) {
      return err(fail("safe_mode", `POST ${url.pathname} is refused in Safe Mode: the catalog does not mark it a read query`));
    }
    const body = checkReadOnlyBody(req.readOnlyQuery, req.body ?? "");
    if (!body.ok) return body;
  }
  if (req.allowedHosts && !hostMatches(url, req.allowedHosts)) {
    return err(fail("egress_refused", `host ${url.host} is not among the connector's allowed hosts`));
  }
  return ok({ method, url });
}

function checkReadOnlyBody(q: ReadOnlyQuery, body: string): ConnectorResult<void> {
  let parsed: unknown;
  try {
    parsed = body === "" ? {} : JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const obj = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  // Any body that carries a GraphQL document is checked, whatever the catalog calls the endpoint.
  const docs: string[] = [];
  if (q.kind === "graphql" && !obj) docs.push(body);
  if (obj && typeof obj.query === "string" && q.kind !== "sql") docs.push(obj.query);
  if (Array.isArray(parsed)) for (const p of parsed) if (p && typeof p.query === "string") docs.push(p.query);
  if (q.kind === "graphql" && docs.length === 0) return err(fail("safe_mode", "GraphQL request without a query document"));
  for (const d of docs) {
    const r = isReadOnlyGraphql(d);
    if (!r.ok) return err(fail("safe_mode", r.reason));
  }
  if (q.kind === "sql") {
    const stmt = obj?.[q.field];
    if (typeof stmt !== "string") return err(fail("safe_mode", `read query body lacks the SQL field ${q.field}`));
    // the SQL drivers' guard first (one SQL policy), then the warehouse-dialect check ($$ strings, backticks)
    const guard = checkReadOnlySql(stmt, "postgres");
    if (!guard.ok) return err(fail("safe_mode", guard.error.message));
    const r = isReadOnlySql(stmt);
    if (!r.ok) return err(fail("safe_mode", r.reason));
  }
  return ok(undefined);
}

/** Backoff that waits what the server asked for (Retry-After) when it said so, else jittered exponential. */
class RetryAfterBackoff implements IBackoff<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly inner: IBackoffFactory<unknown>,
    readonly duration = 0,
  ) {}
  next(ctx: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const b = this.inner.next(ctx) as IBackoff<unknown>;
    const e = "error" in ctx.result ? ctx.result.error : undefined;
    const hinted = e instanceof AttemptError ? e.retryAfterMs : undefined;
    return new RetryAfterBackoff(b, hinted ?? b.duration);
  }
}

type Hop = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

export function createSafeHttp(options: Partial<SafeHttpOptions> = {}): SafeHttp {
  const o: SafeHttpOptions = { ...DEFAULT_SAFE_HTTP_OPTIONS, ...options };
  const maxRedirects = Math.min(o.maxRedirects, MAX_REDIRECT_HOPS_CEILING);
  // per tenant and host (one organisation's failing or hostile connections never open a shared
  // vendor host's breaker for the others), LRU-capped: many hosts never wipe the breakers in use
  const breakers = lru<string, CircuitBreakerPolicy>(Math.max(1, Math.min(o.maxBreakers, MAX_HOST_BREAKERS)));

  const retryPolicy = retry(
    handleWhen((e) => e instanceof AttemptError && e.retryable),
    {
      maxAttempts: o.retries,
      backoff: new RetryAfterBackoff(
        new ExponentialBackoff({ initialDelay: o.initialDelayMs, maxDelay: o.maxDelayMs, generator: decorrelatedJitterGenerator }),
      ),
    },
  );

  const breakerKey = (tenantId: string | undefined, host: string) => `${tenantId ?? ""}\u0000${host}`;

  function breakerFor(host: string): CircuitBreakerPolicy {
    let b = breakers.get(host);
    if (!b) {
      b = circuitBreaker(
        handleWhen((e) => e instanceof AttemptError && e.tripsBreaker),
        { halfOpenAfter: o.breakerHalfOpenAfterMs, breaker: new ConsecutiveBreaker(o.breakerThreshold) },
      );
      breakers.set(host, b);
    }
    return b;
  }

  async function oneHop(ctx: ConnectorContext, method: string, url: URL, headers: Record<string, string>, body: string | undefined): Promise<Hop> {
    const what = describe(method, url);
    // the trust boundary: a vendor host of the catalog entry or an approved destination, else refused unsent
    const egress = await checkDestination(ctx, url.hostname, Number(url.port || (url.protocol === "https:" ? 443 : 80)), url.protocol === "https:" ? "https:" : "http:");
    if (!egress.ok) {
      throw new AttemptError(egress.error, false, egress.error.kind === "network");
    }
    const took = await bucketFor(ctx.connectionId, ctx.policy.ratePerMinute).take(Math.min(o.maxRateWaitMs, ctx.policy.requestTimeoutMs));
    if (!took) throw new AttemptError(fail("rate_limited", `Safe Mode rate cap (${ctx.policy.ratePerMinute}/min) reached for this connection`), false, false);

    const address = egress.value.address;
    const family = address.includes(":") ? 6 : 4;
    // Connect to the address the egress guard vetted, whatever DNS says a moment later.
    const pinned: LookupFunction = (_host, opts, cb) => {
      if ((opts as { all?: boolean }).all) (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
      else cb(null, address, family);
    };
    // this request's end, whichever comes first: its answer, the Safe Mode timeout, or the
    // attempt's signal (cancelled). No AbortController per request: a timer and one listener on the
    // attempt's signal, both let go when the request settles, so nothing outlives it (the issue 11
    // leak) and no abort machinery is built for the requests that simply answer
    const parent = ctx.signal;
    const timeoutMs = ctx.policy.requestTimeoutMs;
    const maxBytes = ctx.policy.maxResponseBytes;
    const lib = url.protocol === "https:" ? https : http;

    return new Promise<Hop>((resolve, reject) => {
      let settled = false;
      let req: http.ClientRequest | undefined;
      let timer: NodeJS.Timeout | undefined;
      const done = (f: () => void) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          parent?.removeEventListener("abort", onCancel);
          f();
        }
      };
      /** ends the request here (its socket is not reused) and fails with `e` */
      const stop = (e: AttemptError) =>
        done(() => {
          req?.destroy();
          reject(e);
        });
      const onCancel = () => stop(new AttemptError(fail("timeout", `${what}: cancelled`), false, false));
      if (parent?.aborted) return onCancel();
      timer = setTimeout(() => stop(new AttemptError(fail("timeout", `${what}: no complete answer within ${timeoutMs} ms`), false, true)), timeoutMs);
      timer.unref?.();
      parent?.addEventListener("abort", onCancel, { once: true });
      req = lib.request(
        url,
        {
          method,
          headers: { "accept-encoding": "gzip, deflate, br", ...headers, ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}) },
          lookup: pinned,
          agent: lib === https ? HTTPS_AGENT : HTTP_AGENT,
          // the pool key (PinnedHttpAgent): a kept-alive socket serves only requests vetted for its address
          pinnedAddress: address,
        } as PinnedOptions,
        (res) => {
          const status = res.statusCode ?? 0;
          const declared = Number(res.headers["content-length"]);
          const encoding = String(res.headers["content-encoding"] ?? "identity").toLowerCase();
          if (Number.isFinite(declared) && declared > maxBytes && encoding === "identity") {
            res.destroy();
            return stop(new AttemptError(fail("too_large", `${what}: response of ${declared} bytes exceeds the Safe Mode cap of ${maxBytes}`), false, false));
          }
          let stream: Readable = res;
          if (encoding === "gzip" || encoding === "x-gzip") stream = res.pipe(zlib.createGunzip());
          else if (encoding === "deflate") stream = res.pipe(zlib.createInflate());
          else if (encoding === "br") stream = res.pipe(zlib.createBrotliDecompress());
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on("data", (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              res.destroy();
              stream.destroy();
              stop(new AttemptError(fail("too_large", `${what}: response exceeds the Safe Mode cap of ${maxBytes} bytes`), false, false));
              return;
            }
            chunks.push(c);
          });
          stream.on("end", () => done(() => resolve({ status, headers: res.headers, body: Buffer.concat(chunks) })));
          stream.on("error", (e: NodeJS.ErrnoException) => done(() => reject(networkError(what, e))));
          res.on("error", (e: NodeJS.ErrnoException) => done(() => reject(networkError(what, e))));
        },
      );
      req.on("error", (e: NodeJS.ErrnoException) => done(() => reject(networkError(what, e))));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  // (a timeout or a cancel settles the request before it destroys it: its errors never get here)
  function networkError(what: string, e: NodeJS.ErrnoException): AttemptError {
    const code = e.code ?? "";
    if (code.startsWith("ERR_TLS") || code.includes("CERT") || code === "EPROTO") {
      return new AttemptError(fail("network", `${what}: TLS failure (${code})`), false, true);
    }
    // A reset mid-flight is worth another try; a refused or unresolvable host is not.
    const retryable = code === "ECONNRESET" || code === "EPIPE" || code === "ETIMEDOUT";
    return new AttemptError(fail("network", `${what}: ${code || "connection failed"}`), retryable, true);
  }

  /** One logical request: the redirect chain, each hop vetted; HTTP errors become AttemptErrors. */
  async function attempt(ctx: ConnectorContext, req: SafeRequest, method0: string, url0: URL): Promise<SafeResponse> {
    let method = method0;
    let url = url0;
    let body = req.body;
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    for (let hop = 0; ; hop++) {
      const res = await oneHop(ctx, method, url, headers, body);
      const what = describe(method, url);
      if (REDIRECTS.has(res.status) && res.headers.location) {
        if (hop >= maxRedirects) throw new AttemptError(fail("other", `${what}: more than ${maxRedirects} redirects`), false, false);
        let next: URL;
        try {
          next = new URL(res.headers.location, url);
        } catch {
          throw new AttemptError(fail("other", `${what}: invalid redirect location`), false, false);
        }
        if (next.protocol !== "http:" && next.protocol !== "https:") {
          throw new AttemptError(fail("safe_mode", `${what}: redirect to scheme ${next.protocol} refused`), false, false);
        }
        if (req.allowedHosts && !hostMatches(next, req.allowedHosts)) {
          throw new AttemptError(fail("egress_refused", `${what}: redirect to host ${next.host} outside the connector's allowed hosts`), false, false);
        }
        if (next.origin !== url.origin) {
          // Credentials never follow a redirect to another origin.
          for (const k of Object.keys(headers)) {
            const v = headers[k]!;
            if (SENSITIVE_HEADERS.has(k.toLowerCase()) || Object.values(ctx.secret).some((s) => s.length >= 4 && v.includes(s))) delete headers[k];
          }
        }
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
          for (const k of Object.keys(headers)) if (/^content-(type|length)$/i.test(k)) delete headers[k];
        }
        url = next;
        continue;
      }
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(", ") : v;
      if (res.status >= 200 && res.status < 300) {
        const buf = res.body;
        const finalUrl = url.toString();
        return {
          status: res.status,
          url: finalUrl,
          headers: flat,
          body: buf,
          text: () => buf.toString("utf8"),
          json: () => JSON.parse(buf.toString("utf8")) as unknown,
        };
      }
      if (res.status === 401 || res.status === 403) {
        throw new AttemptError(fail("auth", `${what}: HTTP ${res.status} (credentials rejected or insufficient read scope)`), false, false);
      }
      if (res.status === 429) {
        const after = parseRetryAfter(flat["retry-after"]);
        const tooLong = after !== undefined && after > o.maxRetryAfterMs;
        const msg = `${what}: HTTP 429 rate limited${after !== undefined ? ` (Retry-After ${Math.ceil(after / 1000)} s)` : ""}`;
        throw new AttemptError(fail("rate_limited", msg), !tooLong, true, after);
      }
      if (RETRYABLE_STATUS.has(res.status)) {
        const after = parseRetryAfter(flat["retry-after"]);
        const tooLong = after !== undefined && after > o.maxRetryAfterMs;
        throw new AttemptError(fail("other", `${what}: HTTP ${res.status}`), !tooLong, true, after);
      }
      if (res.status >= 500) throw new AttemptError(fail("other", `${what}: HTTP ${res.status}`), false, true);
      throw new AttemptError(fail("other", `${what}: HTTP ${res.status}`), false, false);
    }
  }

  return {
    async fetch(ctx, req) {
      const pre = preflight(req);
      if (!pre.ok) return err({ ...pre.error, message: redact(pre.error.message, ctx.secret) });
      const { method, url } = pre.value;
      const breaker = breakerFor(breakerKey(ctx.tenantId, url.host));
      try {
        const res = await retryPolicy.execute(() => breaker.execute(() => attempt(ctx, req, method, url)), ctx.signal);
        return ok(res);
      } catch (e) {
        let f: ConnectorFailure;
        if (e instanceof AttemptError) f = e.failure;
        else if (e instanceof BrokenCircuitError) {
          f = fail("rate_limited", `circuit open for ${url.host} after repeated 429/5xx/network failures; failing fast until it cools down`);
        } else if (ctx.signal?.aborted) f = fail("timeout", `${describe(method, url)}: cancelled`);
        else f = fail("other", `${describe(method, url)}: ${e instanceof Error ? e.message : "request failed"}`);
        return err({ kind: f.kind, message: redact(f.message, ctx.secret), ...(f.destination ? { destination: f.destination } : {}) });
      }
    },
    breakerState(host, tenantId) {
      const b = breakers.peek(breakerKey(tenantId, host));
      if (!b) return "closed";
      switch (b.state) {
        case CircuitState.Open:
          return "open";
        case CircuitState.HalfOpen:
          return "half-open";
        case CircuitState.Isolated:
          return "isolated";
        default:
          return "closed";
      }
    },
  };
}

/** The process-wide client: one breaker per source host shared by every connection. */
export const defaultSafeHttp: SafeHttp = createSafeHttp();

export function safeFetch(ctx: ConnectorContext, req: SafeRequest): Promise<ConnectorResult<SafeResponse>> {
  return defaultSafeHttp.fetch(ctx, req);
}
