/**
 * What the onboarding worker of this process is doing, for /api/health: off (RUN_WORKER=0 or no
 * database yet), starting, running, retrying (its start or its queue failed; it tries again with
 * backoff), stopping. Kept on globalThis: Next.js may load modules more than once.
 */
export type WorkerStatus = "off" | "starting" | "running" | "retrying" | "stopping";
export type WorkerState = { status: WorkerStatus; since: number; failures: number; lastError?: string; nextTryAt?: number };

const g = globalThis as unknown as { __aamWorkerState?: WorkerState };

export function workerState(): WorkerState {
  return (g.__aamWorkerState ??= { status: "off", since: Date.now(), failures: 0 });
}

export function setWorkerState(patch: Partial<WorkerState> & { status: WorkerStatus }): void {
  const prev = workerState();
  g.__aamWorkerState = { ...prev, ...patch, since: patch.status === prev.status ? prev.since : Date.now() };
}

/** A database error in words, without hosts or credentials (for logs and /api/health). */
export function describeDbFailure(e: unknown): string {
  const seen = new Set<unknown>();
  const codeOf = (x: unknown, depth = 0): string | undefined => {
    if (!x || typeof x !== "object" || depth > 4 || seen.has(x)) return undefined;
    seen.add(x);
    const o = x as Record<string, unknown>;
    const c = [o.code, o.originalCode, o.kind].find((v) => typeof v === "string") as string | undefined;
    return c ?? codeOf(o.cause, depth + 1) ?? codeOf((o.meta as Record<string, unknown> | undefined)?.driverAdapterError, depth + 1) ?? (Array.isArray(o.errors) ? codeOf(o.errors[0], depth + 1) : undefined);
  };
  const code = codeOf(e);
  const msg = e instanceof Error ? e.message : String(e);
  if (code === "ECONNREFUSED" || /ECONNREFUSED|connection refused/i.test(msg)) return "the database refuses connections (is PostgreSQL running?)";
  if (code === "57P03" || /starting up|not yet accepting/i.test(msg)) return "the database is starting up";
  if (code === "57P01" || /terminating connection|shutting down/i.test(msg)) return "the database is restarting";
  if (code === "EAI_AGAIN" || code === "ENOTFOUND") return "the database host name does not resolve";
  if (/timed? ?out|timeout/i.test(msg) || code === "ETIMEDOUT") return "the database does not answer in time";
  if (/terminated|closed|ECONNRESET|connection lost/i.test(msg) || code === "ECONNRESET") return "the connection to the database was lost";
  // Prisma's own codes for a lost or refused connection, a failed raw query in the middle of a restart
  if (code && /^P(1001|1002|1008|1017|2010|2024)$/.test(code)) return "the connection to the database failed";
  return `the database is unavailable${code ? ` (${code})` : ""}`;
}
