/**
 * Use-cases behind AOD's REST API: submit one intent (answer within a time budget, else 202),
 * submit a batch (202 with per-item results), read one connection. The handlers only parse and
 * map; these decide. Nothing is written for an intent that fails validation.
 */
import type { Db } from "../db/client";
import { getConnection, getConnectionById, listEventsPage, upsertIntents, type AttemptRow, type ConnectionRow, type StartedAttempt } from "./connection-repository";
import { usesSandbox } from "../connectors/sandbox/refs";
import { admitIntents, decide, statusPath, toResult } from "./pipeline";
import { parseConnectionIntent } from "./intent-admission";
import type { ConnectionIntent, OnboardingResult } from "./schemas";

export const READ_ONLY_NAMESPACES = new Set(["demo"]);

export type SubmitDeps = {
  db: Db;
  enqueue: (ids: readonly string[]) => Promise<void>;
  /** waits until the connection's job commits a final state (true) or the time runs out (false) */
  waitForFinal: (id: string, ms: number, afterListen: () => Promise<boolean>) => Promise<boolean>;
  /**
   * This process's worker, when it runs and has a free slot (server/jobs/inline.ts): the
   * admission takes the lease and the attempt runs here at once, the queue only as a fallback.
   */
  inline?: () =>
    | { owner: string; leaseMs: number; run: (id: string, started?: StartedAttempt) => Promise<AttemptRow | null> }
    | undefined;
};

export type SubmitOutcome =
  | { kind: "final"; result: OnboardingResult }
  | { kind: "accepted"; result: OnboardingResult }
  | { kind: "unsupported"; result: OnboardingResult }
  | { kind: "refused"; code: string; message: string; path: string };

export function refuseNamespace(intent: ConnectionIntent): { code: string; message: string; path: string } | null {
  if (READ_ONLY_NAMESPACES.has(intent.namespace)) {
    return { code: "NAMESPACE_READ_ONLY", message: `The "${intent.namespace}" namespace holds pre-existing connections and cannot be written by auto-onboarding.`, path: "namespace" };
  }
  return null;
}

export async function submitIntent(deps: SubmitDeps, tenantId: string, intent: ConnectionIntent, opts: { budgetMs: number; async: boolean }): Promise<SubmitOutcome> {
  const refused = refuseNamespace(intent);
  if (refused) return { kind: "refused", ...refused };
  const inline = opts.async || opts.budgetMs === 0 ? undefined : deps.inline?.();
  const decided = decide(intent);
  const admitted = (await upsertIntents(deps.db, tenantId, [{ intent, decided }], inline && !decided ? { owner: inline.owner, leaseMs: inline.leaseMs } : undefined))[0]!;
  if (admitted.status === "UNSUPPORTED") {
    return { kind: "unsupported", result: toResult((await getConnectionById(deps.db, admitted.id))!) };
  }
  let row: AttemptRow | null = null;
  if (admitted.needsRun) {
    const started = Date.now();
    if (inline && admitted.leased) {
      // the attempt runs here, now; past the budget it goes on in the background and the caller gets 202
      let timer: NodeJS.Timeout | undefined;
      const outOfTime = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), opts.budgetMs)));
      row = await Promise.race([inline.run(admitted.id, admitted.started), outOfTime]);
      clearTimeout(timer);
      if (row && row.status === "PENDING") row = null;
    }
    const ranHere = Boolean(inline && admitted.leased);
    const left = opts.budgetMs - (Date.now() - started);
    if (!row && !(ranHere && left <= 0)) {
      // the durable queue (the attempt is not ours to run here, or it ended elsewhere): wait for its final state
      const enqueue = async () => {
        if (ranHere) {
          // it may have ended already, before this wait listened
          const now = await getConnectionById(deps.db, admitted.id);
          if (now && now.status !== "PENDING") {
            row = now;
            return true;
          }
        }
        await deps.enqueue([admitted.id]);
        return false;
      };
      if (opts.async || opts.budgetMs === 0) await enqueue();
      else await deps.waitForFinal(admitted.id, Math.max(0, left), enqueue);
    }
  }
  row ??= (await getConnectionById(deps.db, admitted.id))!;
  const result = toResult(row);
  return row.status === "PENDING" ? { kind: "accepted", result: { ...result, status_url: statusPath(row.id) } } : { kind: "final", result };
}

export type BatchItem =
  | { index: number; connection_id: string; status: string; status_url: string }
  | { index: number; error: { code: string; message: string; issues?: { path: string; message: string }[] } };

export async function submitBatch(deps: SubmitDeps, tenantId: string, items: unknown[]): Promise<{ accepted: number; rejected: number; items: BatchItem[] }> {
  const out: BatchItem[] = new Array(items.length);
  const valid: { index: number; intent: ConnectionIntent }[] = [];
  items.forEach((raw, index) => {
    // shape limits, schema and the catalog's typed config, before anything is written
    const parsed = parseConnectionIntent(raw);
    if (!parsed.ok) {
      out[index] = { index, error: { code: "VALIDATION_FAILED", message: "Not a valid connection intent.", issues: parsed.issues } };
      return;
    }
    const refused = refuseNamespace(parsed.intent);
    if (refused) out[index] = { index, error: { code: refused.code, message: refused.message, issues: [{ path: refused.path, message: refused.message }] } };
    else valid.push({ index, intent: parsed.intent });
  });
  // one statement for the whole batch, then one enqueue
  const admitted = await admitIntents(deps.db, tenantId, valid.map((v) => v.intent));
  const toRun = new Set<string>();
  admitted.forEach((a, k) => {
    const { index } = valid[k]!;
    if (a.needsRun) toRun.add(a.id);
    out[index] = { index, connection_id: a.id, status: a.status, status_url: statusPath(a.id) };
  });
  if (toRun.size) await deps.enqueue([...toRun]);
  const rejected = out.filter((o) => "error" in o).length;
  return { accepted: items.length - rejected, rejected, items: out };
}

export type ConnectionView = OnboardingResult & {
  source_type: string;
  resource_ids: string[];
  risk_level: string;
  credential_locator: string;
  evidence: unknown;
  owner: unknown;
  intent_id: string | null;
  schema_fingerprint: string | null;
  discovered_streams: number | null;
  attempts: number;
  /** the source is one of the local SANDBOX stand-ins (config refers to `sandbox:<name>`) */
  sandbox: boolean;
  first_received_at: string;
  last_attempt_at: string | null;
  activated_at: string | null;
  /** the latest events (at most `events_limit`, default 50), oldest first */
  events: { attempt: number; stage: string; outcome: string; status: string | null; message: string | null; duration_ms: number | null; at: string }[];
  /** how many events the connection has in all */
  events_total: number;
  /** pass as `events_before` for the next older page; null when `events` reaches the first one */
  events_next_cursor: string | null;
};

/** Which page of the event history a view carries (the latest by default). */
export type EventsQuery = { limit?: number; before?: { at: Date; id: bigint } | null };

async function viewOf(db: Db, row: ConnectionRow, eventsQuery: EventsQuery = {}): Promise<ConnectionView> {
  const id = row.id;
  const page = await listEventsPage(db, id, eventsQuery);
  const streams = (row.discoveredSchema as { streams?: unknown[] } | null)?.streams;
  return {
    ...toResult(row),
    source_type: row.sourceType,
    resource_ids: row.resourceIds,
    risk_level: row.riskLevel,
    credential_locator: row.credentialLocator,
    evidence: row.evidence,
    owner: row.owner,
    intent_id: row.intentId,
    schema_fingerprint: row.schemaFingerprint,
    discovered_streams: Array.isArray(streams) ? streams.length : null,
    attempts: row.attempts,
    sandbox: usesSandbox(row.config),
    first_received_at: row.firstReceivedAt.toISOString(),
    last_attempt_at: row.lastAttemptAt?.toISOString() ?? null,
    activated_at: row.activatedAt?.toISOString() ?? null,
    events: page.events.map((e) => ({ attempt: e.attempt, stage: e.stage, outcome: e.outcome, status: e.status, message: e.message, duration_ms: e.durationMs, at: e.at.toISOString() })),
    events_total: page.total,
    events_next_cursor: page.nextCursor,
  };
}

/** What AOD sees of a connection (no row data). */
export async function viewConnection(db: Db, tenantId: string, id: string, eventsQuery: EventsQuery = {}): Promise<ConnectionView | null> {
  const row = await getConnection(db, tenantId, id);
  return row ? viewOf(db, row, eventsQuery) : null;
}

/** What an admin sees on the connection page: the view plus the discovered schema and the redacted preview, from one read. */
export async function viewConnectionDetail(db: Db, tenantId: string, id: string): Promise<(ConnectionView & { discovered_schema: unknown; sample_preview: unknown }) | null> {
  const row = await getConnection(db, tenantId, id);
  return row ? { ...(await viewOf(db, row)), discovered_schema: row.discoveredSchema ?? null, sample_preview: row.samplePreview ?? null } : null;
}
