/**
 * Transient or terminal (issue 11, item 3): what a retry can fix is retried with backoff and
 * jitter; only what a retry cannot fix ends a run. Lost database connections, deadlocks (40P01),
 * serialization failures (40001), a database that is starting or shutting down, Vault and
 * token-endpoint 5xx, connection resets, DNS hiccups (EAI_AGAIN) and 429 storms are transient.
 */
import type { ConnectorFailure } from "../connectors/types";
import type { CredentialFailure } from "../credentials/types";

/** tries per onboarding run, whatever went wrong (a crashed worker counts as one) */
export const MAX_RUN_ATTEMPTS = 5;

// SQLSTATEs, Prisma codes, driver-adapter kinds and socket errors a retry can fix
const TRANSIENT_CODES = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available
  "53300", // too_many_connections
  "57P01", // admin_shutdown (server restarted)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up)
  "08000", "08001", "08003", "08004", "08006",
  "P1001", "P1002", "P1008", "P1017", "P2024", "P2034",
  "DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections", "TransactionWriteConflict",
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH",
]);

const TRANSIENT_MESSAGE =
  /connection terminated|terminating connection|server closed the connection|the database system is (starting up|shutting down|in recovery|not yet accepting)|can't reach database server|timed out fetching a new connection|deadlock detected|could not serialize access|connection (refused|reset)|ECONNRESET|ECONNREFUSED|EAI_AGAIN|socket hang up|Client has encountered a connection error|Connection lost/i;

/** True when `e` (a thrown error: database, driver, socket) is worth retrying. */
export function isTransientError(e: unknown): boolean {
  const seen = new Set<unknown>();
  const walk = (x: unknown, depth: number): boolean => {
    if (!x || typeof x !== "object" || depth > 5 || seen.has(x)) return false;
    seen.add(x);
    const o = x as Record<string, unknown>;
    for (const k of ["code", "originalCode", "kind", "errno"]) {
      const v = o[k];
      if (typeof v === "string" && TRANSIENT_CODES.has(v)) return true;
    }
    if (typeof o.message === "string" && TRANSIENT_MESSAGE.test(o.message)) return true;
    const meta = o.meta as Record<string, unknown> | undefined;
    return walk(o.cause, depth + 1) || walk(meta?.driverAdapterError, depth + 1) || walk(meta, depth + 1) || (Array.isArray(o.errors) && o.errors.some((c) => walk(c, depth + 1)));
  };
  return walk(e, 0);
}

/** Vault / token endpoint answered 5xx, was sealed, unreachable for a moment or slow: retry. */
export function isTransientCredentialFailure(f: CredentialFailure): boolean {
  if (f.kind !== "unreadable") return false;
  return /HTTP 5\d\d|\b5\d\d\b|sealed|unreachable|did not answer|timed out|timeout|EAI_AGAIN|ECONNRESET|ECONNREFUSED|socket hang up|temporarily/i.test(f.message);
}

/**
 * A source failure a retry can fix: 429 storms and open breakers, timeouts, resets, DNS
 * hiccups, 5xx. Refused connections, unknown hosts, egress refusals, auth and Safe Mode refusals
 * are answers, not accidents.
 */
export function isTransientConnectorFailure(f: ConnectorFailure): boolean {
  if (f.kind === "rate_limited" || f.kind === "timeout") return true;
  if (f.kind === "network") return /EAI_AGAIN|ECONNRESET|EPIPE|ETIMEDOUT|socket hang up|other side closed|reset/i.test(f.message);
  if (f.kind === "other") return /HTTP 5\d\d|\b50[0234]\b/.test(f.message);
  return false;
}

/** How many tries a run gets for this failure (a source that hangs costs a worker slot per try). */
export function triesFor(f: ConnectorFailure | CredentialFailure | "error"): number {
  return f !== "error" && f.kind === "timeout" ? 2 : MAX_RUN_ATTEMPTS;
}

/** Exponential backoff with jitter: ~0.5 s, 1 s, 2 s, 4 s … capped at `capMs`, each × [0.5, 1). */
export function backoffMs(retry: number, opts: { baseMs?: number; capMs?: number; random?: () => number } = {}): number {
  const base = opts.baseMs ?? 500;
  const cap = opts.capMs ?? 8_000;
  const r = (opts.random ?? Math.random)();
  return Math.round(Math.min(cap, base * 2 ** Math.max(0, retry - 1)) * (0.5 + r / 2));
}

/** Sleeps `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
