/**
 * The onboarding pipeline (DESIGN.md "Statuses and the funnel"):
 * allowlist → sanction check → credentials → connect + health check → metadata-only discovery
 * (fingerprinted) → tiny first sync (≤ 20 records) → persist → result.
 *
 * Framework-free: the REST handler, tRPC, the worker, the CLIs and the tests call these very
 * functions with their own deps. Expected failures are values; only a bug throws, and that is
 * caught and recorded as ERROR with a redacted message.
 */
import { type LinkedAbort, linkedAbort } from "../lib/linked-abort";
import { unmetNamedResources } from "./named-resources";
import { createHash } from "node:crypto";
import { isAllowlisted } from "../connectors/allowlist";
import type { AttemptSource, ConnectorContext, ConnectorFailure, DiscoveredSchema, SafetyPolicy, SampleRecord, SourceAdapter } from "../connectors/types";
import { isConsentLocator } from "../credentials/locator";
import { redact, redactor } from "../credentials/redact";
import { consentPath } from "../credentials/resolver";
import type { CredentialResolver } from "../credentials/types";
import type { Db } from "../db/client";
import type { DestinationGrant } from "../connectors/safe-mode/destinations";
import { catalogOnlyDestinations, namedCatalogHosts } from "./destination-grant";
import {
  finishAttempt,
  getConnectionById,
  noteRetry,
  releaseLease,
  startAttempt,
  upsertIntents,
  type AttemptRow,
  type Decision,
  type FinalState,
  type StageEvent,
  type StartedAttempt,
} from "./connection-repository";
import { pingDatabase } from "../health";
import { abortReason, holdLocal, isDraining, LEASE_MS, nextTry, releaseLocal, workerId } from "./lease";
import { backoffMs, isTransientConnectorFailure, isTransientCredentialFailure, isTransientError, MAX_RUN_ATTEMPTS, sleep, triesFor } from "./transient";
import { maskValue } from "./preview-masking";
import { previewMaskingFor } from "./settings-repository";
import { checkSecretBinding, confirmFirstUse } from "./secret-binding";
import { FUNNEL_STAGE, type ConnectionIntent, type OnboardingResult, type Status } from "./schemas";

export type ConnectorBinding = { adapter: SourceAdapter; tokenUrl?: string; scopes?: string[] };

export type PipelineDeps = {
  db: Db;
  credentials: CredentialResolver;
  /** the adapter (and OAuth details) for an allowlisted source type */
  connectors: (sourceType: string) => ConnectorBinding | undefined;
  /** Safe Mode policy for a tenant's namespace */
  policy: (tenantId: string, namespace: string) => Promise<SafetyPolicy>;
  /** expands non-secret config references (e.g. sandbox endpoints); identity by default */
  resolveConfig?: (config: Record<string, unknown>) => Record<string, unknown>;
  /** where a connection may connect (trust boundary); default: the catalog's vendor hosts only */
  destinations?: (tenantId: string, sourceType: string, config: Record<string, unknown>) => Promise<DestinationGrant>;
  log?: { warn: (obj: object, msg: string) => void };
  /**
   * The overall deadline of one try (credentials, health check, discovery and first sync
   * together), for every driver; default: attemptDeadlineMs(policy). Past it the try ends with a
   * timeout reason in words, whether or not the adapter honours its abort signal.
   */
  attemptDeadlineMs?: number;
};

/** The default overall deadline of one try: six request timeouts, at least 30 s, at most 5 min. */
export function attemptDeadlineMs(policy: SafetyPolicy): number {
  return Math.min(300_000, Math.max(policy.requestTimeoutMs * 6, 30_000));
}

/** Thrown (internally) when a try passes its overall deadline. */
class AttemptDeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`attempt deadline of ${ms} ms passed`);
    this.name = "AttemptDeadlineError";
  }
}

const STAGE_WORDS: Record<string, string> = { credentials: "resolving the credentials", health_check: "the health check", discover: "discovery", first_sync: "the first sync", connect: "connecting" };

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

export const SANCTIONED = "Sanctioned";

export { consentPath };

export function statusPath(connectionId: string): string {
  return `/api/connections/${connectionId}`;
}

export type Admission = { id: string; status: Status; inserted: boolean; needsRun: boolean };

/** Stages 1–2: what is decided without touching the source (UNSUPPORTED, NOT_SANCTIONED). */
export function decide(intent: ConnectionIntent): Decision | undefined {
  if (!isAllowlisted(intent.source_type)) {
    return { status: "UNSUPPORTED", reason: `Source type "${intent.source_type}" is not on the allowlist`, stage: "allowlist" };
  }
  if (intent.evidence.status !== SANCTIONED) {
    return { status: "NOT_SANCTIONED", reason: `Evidence status is "${intent.evidence.status}", not "${SANCTIONED}"`, stage: "sanction_check" };
  }
  return undefined;
}

/** Stages 1–2 and the idempotent upsert, for one intent or a whole batch (one statement). */
export async function admitIntents(db: Db, tenantId: string, intents: readonly ConnectionIntent[]): Promise<Admission[]> {
  return upsertIntents(db, tenantId, intents.map((intent) => ({ intent, decided: decide(intent) })));
}

export async function admitIntent(db: Db, tenantId: string, intent: ConnectionIntent): Promise<Admission> {
  return (await admitIntents(db, tenantId, [intent]))[0]!;
}

function fingerprint(schema: DiscoveredSchema): string {
  const canonical = [...schema.streams]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => [s.name, [...s.fields].sort((a, b) => a.name.localeCompare(b.name)).map((f) => [f.name, f.type, f.nullable ?? null])]);
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

// field names whose values are hidden whatever they hold ("auth" but not "author")
const SECRETISH = /(pass(word)?|secret|token|api[_-]?key|ssn|credit|card|cvv|cvc|iban|auth(?!or))/i;

/**
 * A small preview for the connection page: 5 records, long values cut, secret-looking fields
 * hidden, and — unless the tenant turned masking off — emails, phone numbers and card-like
 * numbers shown as their shape only (preview-masking.ts), before anything is stored.
 */
export function previewOf(records: SampleRecord[], secrets: string[], opts: { mask: boolean } = { mask: true }): SampleRecord[] {
  const scrub = redactor(secrets);
  return records.slice(0, 5).map((r) => ({
    stream: r.stream,
    // the first 20 keys only (Object.entries would copy every field of a wide record first)
    data: Object.fromEntries(
      Object.keys(r.data)
        .slice(0, 20)
        .map((k) => {
          const raw = r.data[k];
          if (SECRETISH.test(k)) return [k, "[redacted]"];
          const v = opts.mask ? maskValue(raw) : raw;
          const text = typeof v === "string" ? v : JSON.stringify(v ?? null);
          // redacted whole, then cut: a secret across the cut is not half shown; a value that is not
          // a string (a number, a small object) stays as it is only when its text has nothing to redact
          const clean = scrub(text);
          const cut = clean.length > 120 ? `${clean.slice(0, 117)}…` : clean;
          return [k, typeof v === "string" || clean !== text || text.length > 120 ? cut : v];
        }),
    ),
  }));
}

function healthFailureStatus(f: ConnectorFailure): Status {
  if (f.kind === "network" || f.kind === "timeout" || f.kind === "egress_refused" || f.kind === "not_approved") return "NETWORK_BLOCKED";
  if (f.kind === "auth") return "AWAITING_CREDENTIALS";
  return "ERROR";
}

/** How long one runAttempt waits for a database that went away before it gives the job back to the queue. */
const DB_WAIT_MS = 120_000;

/** One try's outcome: a final state to write, a failure a retry can fix, or an abort. */
type TryOutcome =
  | { kind: "final"; final: FinalState; events: StageEvent[] }
  | {
      kind: "transient";
      stage: string;
      message: string;
      /** tries the run gets for this failure */
      tries: number;
      /** what is written when no tries are left */
      final: FinalState;
      events: StageEvent[];
      /** an exception: maybe the database itself (then waiting for it costs no try) */
      thrown: boolean;
    };

export type AttemptRun = { row: AttemptRow | null; handedBack: boolean };

/**
 * Stages 3–7 for one PENDING connection. Returns the connection as it ended up, or null when it
 * was not pending or another worker holds its lease (already handled by someone else).
 */
export async function runAttempt(deps: PipelineDeps, connectionId: string): Promise<AttemptRow | null> {
  return (await runAttemptDetailed(deps, connectionId)).row;
}

/**
 * runAttempt with the lease loop (issue 11, items 1–3): holds the connection's lease for the
 * whole run, retries what a retry can fix with backoff and jitter (counted in the run, at most
 * MAX_RUN_ATTEMPTS tries), waits for a database that went away without counting, restarts when a
 * changed intent supersedes the try, stops when the lease is lost, and on graceful shutdown hands
 * the connection back (`handedBack`: the caller re-queues it).
 */
export async function runAttemptDetailed(deps: PipelineDeps, connectionId: string, opts: { started?: StartedAttempt } = {}): Promise<AttemptRun> {
  // `started`: the admission already started the first try for this process's owner (its lease, its fencing number)
  let started = opts.started;
  const held = holdLocal(connectionId, deps.db);
  // this process already runs it; or it is shutting down: then the job hands it back untouched
  if (!held) return { row: null, handedBack: isDraining() };
  const owner = workerId();
  const dbDeadline = Date.now() + DB_WAIT_MS;
  let dbWaits = 0;
  /** waits for the database after a transient error; false once it has been away too long */
  const waitForDb = async (e: unknown): Promise<void> => {
    if (!isTransientError(e) || Date.now() > dbDeadline) throw e;
    do await sleep(backoffMs(++dbWaits, { capMs: 4_000 }), held.controller.signal);
    while (!held.controller.signal.aborted && Date.now() < dbDeadline && !(await pingDatabase(deps.db)));
  };
  const handBack = async (): Promise<AttemptRun> => ({ row: null, handedBack: await releaseLease(deps.db, connectionId, owner).catch(() => false) });
  try {
    for (;;) {
      const signal = nextTry(held);
      if (abortReason(held) === "shutdown") return await handBack();
      let conn: StartedAttempt | null;
      try {
        conn = started ?? (await startAttempt(deps.db, connectionId, owner, LEASE_MS));
        started = undefined;
      } catch (e) {
        await waitForDb(e);
        continue;
      }
      if (!conn) return { row: null, handedBack: false };
      held.attempt = conn.attempts;
      try {
        if (conn.runAttempts >= MAX_RUN_ATTEMPTS) {
          // every try of this run ended with its worker (killed, frozen): say so instead of trying again
          const reason = `Onboarding did not complete after ${MAX_RUN_ATTEMPTS} attempts; post the intent again or heal it`;
          const ev: StageEvent[] = [{ stage: "recovery", outcome: "fail", message: reason, durationMs: 0, status: "ERROR", at: new Date() }];
          return { row: (await finishAttempt(deps.db, conn.id, conn.attempts, { status: "ERROR", reason, reachable: false }, ev)) ?? (await getConnectionById(deps.db, conn.id)), handedBack: false };
        }
        // a shutdown or a lost lease does not wait for a source that ignores the abort signal
        const out = await Promise.race([tryOnce(deps, conn, signal), untilAbandoned(signal, held)]);
        const aborted = abortReason(held); // set by the heartbeat or a shutdown while the try ran
        if (!out) continue; // unreachable: untilAbandoned resolves only with a reason set
        if (aborted === "lease_lost") return { row: null, handedBack: false };
        if (aborted === "shutdown") return await handBack();
        if (aborted === "superseded") continue;
        if (out.kind === "transient") {
          if (out.thrown && !(await pingDatabase(deps.db))) {
            await waitForDb(new Error("Connection lost"));
            continue; // the database went away, not the source: that try does not count
          }
          const used = conn.runAttempts + 1;
          if (used < out.tries) {
            const wait = backoffMs(used);
            const message = `${out.message}; retrying in ${(wait / 1000).toFixed(1)} s (try ${used} of ${out.tries})`;
            const noted = await noteRetry(deps.db, conn.id, conn.attempts, owner, { stage: out.stage, message, durationMs: 0 });
            if (noted === null) return { row: null, handedBack: false };
            await sleep(wait, held.controller.signal);
            continue;
          }
          const final = { ...out.final, reason: `${out.final.reason} (after ${used} tries)` };
          const row = await finishAttempt(deps.db, conn.id, conn.attempts, final, out.events);
          if (row) return { row, handedBack: false };
        } else {
          const row = await finishAttempt(deps.db, conn.id, conn.attempts, out.final, out.events);
          if (row) return { row, handedBack: false };
        }
        // fenced off: a changed intent superseded this try (try again with it), or it was decided elsewhere
        const now = await getConnectionById(deps.db, conn.id);
        if (now?.status === "PENDING") continue;
        return { row: now, handedBack: false };
      } catch (e) {
        await waitForDb(e);
      }
    }
  } finally {
    releaseLocal(held);
  }
}

/** Resolves (null) when the try is aborted for a shutdown or a lost lease; never otherwise. */
function untilAbandoned(signal: AbortSignal, held: { reason?: string }): Promise<null> {
  return new Promise((resolve) => {
    const check = () => {
      if (held.reason === "shutdown" || held.reason === "lease_lost") resolve(null);
    };
    if (signal.aborted) check();
    else signal.addEventListener("abort", check, { once: true });
  });
}

/** One try of stages 3–7 (no writes: the caller commits the outcome, fenced by the attempt number). */
async function tryOnce(deps: PipelineDeps, conn: StartedAttempt, signal: AbortSignal): Promise<TryOutcome> {
  const events: StageEvent[] = [];
  const record = (e: StageEvent) => events.push({ ...e, at: new Date() });
  let secrets: string[] = [];
  let stage = "credentials";
  const finish = async (final: FinalState): Promise<TryOutcome> => ({ kind: "final", final, events });
  /** a failure a retry can fix: counted, retried, and `final` only when the run has no tries left */
  const retry = (at: string, message: string, tries: number, final: FinalState): TryOutcome => ({ kind: "transient", stage: at, message, tries, final, events, thrown: false });
  // the overall deadline of this try: it aborts the adapter's signal and, for an adapter that
  // ignores the signal, stops waiting for it (what it still does is no longer awaited)
  const deadline = new AbortController();
  let sourceSignal: LinkedAbort | undefined;
  let deadlineMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let expired: Promise<never> | undefined;
  const startDeadline = (ms: number) => {
    deadlineMs = ms;
    expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort(new AttemptDeadlineError(ms));
        reject(new AttemptDeadlineError(ms));
      }, ms);
      timer.unref?.();
    });
    expired.catch(() => undefined);
  };
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    stage = name;
    const t0 = performance.now();
    if (deadline.signal.aborted) throw new AttemptDeadlineError(deadlineMs);
    const value = expired ? await Promise.race([fn(), expired]) : await fn();
    // a cooperative adapter answers its abort with a failure: the deadline is the reason
    if (deadline.signal.aborted) throw new AttemptDeadlineError(deadlineMs);
    return { value, ms: Math.round((performance.now() - t0) * 100) / 100 };
  };
  // the attempt's one session with the source (adapters with openAttempt): closed in finally,
  // and at once when the signal aborts (deadline, lost lease, shutdown)
  let source: AttemptSource | undefined;
  let closing: Promise<void> | undefined;
  const closeSource = (): Promise<void> => (source ? (closing ??= source.close().catch(() => undefined)) : Promise.resolve());
  let attemptSignal: AbortSignal | undefined;
  const onAbort = () => void closeSource();

  try {
    const binding = deps.connectors(conn.sourceType);
    if (!binding) {
      const reason = `No connector is available for "${conn.sourceType}" on this server`;
      record({ stage: "connect", outcome: "fail", message: reason, durationMs: 0, status: "ERROR" });
      return finish({ status: "ERROR", reason, reachable: false });
    }

    const policy = await deps.policy(conn.tenantId, conn.namespace);
    startDeadline(deps.attemptDeadlineMs ?? attemptDeadlineMs(policy));

    // 3. credentials: a tenant's own secret only where it is bound (secret-binding.ts), checked before it is read
    const bound = await timed("credentials", () => checkSecretBinding(deps.db, { tenantId: conn.tenantId, locator: conn.credentialLocator, sourceType: conn.sourceType, config: conn.config }));
    if (!bound.value.ok) {
      const reason = bound.value.refusal.message;
      record({ stage: "credentials", outcome: "fail", message: reason, durationMs: bound.ms, status: "NETWORK_BLOCKED" });
      return finish({ status: "NETWORK_BLOCKED", reason, reachable: false });
    }
    const bindOnSuccess = bound.value.bindOnSuccess;
    const cred = await timed("credentials", () =>
      deps.credentials.resolve(conn.credentialLocator, {
        tenantId: conn.tenantId,
        connectionId: conn.id,
        sourceType: conn.sourceType,
        tokenUrl: binding.tokenUrl,
        scopes: binding.scopes,
        config: conn.config,
      }),
    );
    if (!cred.value.ok) {
      const f = cred.value.error;
      const reason = f.kind === "consent_required" ? `Admin consent needed: ${consentPath(conn.id)}` : redact(f.message, []);
      record({ stage: "credentials", outcome: "fail", message: reason, durationMs: cred.ms, status: "AWAITING_CREDENTIALS" });
      if (isTransientCredentialFailure(f)) return retry("credentials", reason, triesFor(f), { status: "AWAITING_CREDENTIALS", reason, reachable: false });
      return finish({ status: "AWAITING_CREDENTIALS", reason, reachable: false });
    }
    secrets = Object.values(cred.value.value).filter((v) => v.length >= 4);
    record({ stage: "credentials", outcome: "ok", durationMs: cred.ms });

    // the deadline and the lease in one signal, let go of when the try ends (server/lib/linked-abort.ts)
    sourceSignal = linkedAbort([deadline.signal, signal]);
    const config = deps.resolveConfig ? deps.resolveConfig(conn.config) : conn.config;
    const granted = await (deps.destinations ?? catalogOnlyDestinations)(conn.tenantId, conn.sourceType, config);
    // an install-wide secret used by another organisation goes only to the hosts the catalog names
    // for the vendor — never to its approved ones, nor to an instance the intent's config names
    // (`*.service-now.com` is every customer's instance: an attacker's too) (destinations.ts)
    const vendorOnly = (await deps.credentials.vendorHostsOnly?.(conn.credentialLocator, conn.tenantId)) ?? false;
    const destinations = vendorOnly ? { ...granted, catalogHosts: namedCatalogHosts(conn.sourceType), installWideSecret: conn.credentialLocator } : granted;
    const ctx: ConnectorContext = {
      connectionId: conn.id,
      tenantId: conn.tenantId,
      sourceType: conn.sourceType,
      resourceIds: conn.resourceIds,
      config,
      secret: cred.value.value,
      policy,
      destinations,
      // the attempt's deadline, and the lease: a lost lease or a shutdown stops the source calls
      signal: sourceSignal.signal,
    };
    const { adapter } = binding;
    attemptSignal = ctx.signal;
    attemptSignal?.addEventListener("abort", onAbort, { once: true });

    // 4. connect + health check (opening the attempt's session counts here)
    const health = await timed("health_check", async () => {
      if (!adapter.openAttempt) return adapter.healthCheck(ctx);
      const opened = await adapter.openAttempt(ctx);
      if (!opened.ok) return opened;
      source = opened.value;
      if (ctx.signal?.aborted) {
        // aborted while it opened: closed unused (the abort is the reason the caller reports)
        void closeSource();
        return { ok: false as const, error: { kind: "network" as const, message: "the attempt was stopped while the source session opened" } };
      }
      return source.healthCheck();
    });
    if (!health.value.ok) {
      const status = healthFailureStatus(health.value.error);
      const reason = redact(health.value.error.message, secrets);
      record({ stage: "health_check", outcome: "fail", message: reason, durationMs: health.ms, status });
      const blockedDestination = health.value.error.kind === "not_approved" ? health.value.error.destination : undefined;
      if (isTransientConnectorFailure(health.value.error)) return retry("health_check", reason, triesFor(health.value.error), { status, reason, reachable: false });
      return finish({ status, reason, reachable: false, blockedDestination });
    }
    record({ stage: "health_check", outcome: "ok", durationMs: health.ms });
    // the source accepted the secret here: a secret bound nowhere is bound to this source type and destination from now on
    if (bindOnSuccess) await confirmFirstUse(deps.db, bindOnSuccess, conn.id);

    // 5. metadata-only discovery
    const disc = await timed("discover", () => (source ? source.discover() : adapter.discover(ctx)));
    if (!disc.value.ok) {
      const reason = `Discovery failed: ${redact(disc.value.error.message, secrets)}`;
      record({ stage: "discover", outcome: "fail", message: reason, durationMs: disc.ms, status: "HEALING" });
      if (isTransientConnectorFailure(disc.value.error)) return retry("discover", reason, triesFor(disc.value.error), { status: "HEALING", reason, reachable: true });
      return finish({ status: "HEALING", reason, reachable: true });
    }
    const schema = disc.value.value;
    const print = fingerprint(schema);
    record({ stage: "discover", outcome: "ok", message: `${schema.streams.length} stream(s), fingerprint ${print.slice(0, 12)}`, durationMs: disc.ms });
    // every named resource must have been found (issue 10 item 7): otherwise not ACTIVE, in words
    const unmet = unmetNamedResources(conn.resourceIds, schema);
    if (unmet) {
      const reason = redact(unmet.reason, secrets);
      record({ stage: "discover", outcome: "fail", message: reason, durationMs: 0, status: unmet.status });
      return finish({ status: unmet.status, reason, reachable: true, discoveredSchema: schema, schemaFingerprint: print });
    }

    // 6. tiny first sync
    const sample = await timed("first_sync", () => (source ? source.sample(schema) : adapter.sample(ctx, schema)));
    if (!sample.value.ok) {
      const reason = `First sync failed: ${redact(sample.value.error.message, secrets)}`;
      record({ stage: "first_sync", outcome: "fail", message: reason, durationMs: sample.ms, status: "HEALING" });
      const final: FinalState = { status: "HEALING", reason, reachable: true, discoveredSchema: schema, schemaFingerprint: print };
      if (isTransientConnectorFailure(sample.value.error)) return retry("first_sync", reason, triesFor(sample.value.error), final);
      return finish(final);
    }
    // the cap is the pipeline's promise too, whatever an adapter returns
    const records = sample.value.value.slice(0, Math.min(policy.maxRecords, 20));
    record({ stage: "first_sync", outcome: "ok", message: `${records.length} record(s)`, durationMs: sample.ms, status: "ACTIVE" });
    return finish({
      status: "ACTIVE",
      reason: "Onboarded successfully in Safe Mode",
      reachable: true,
      discoveredSchema: schema,
      schemaFingerprint: print,
      firstSyncRows: records.length,
      latencyMs: sample.ms,
      samplePreview: previewOf(records, secrets, { mask: conn.previewMasking ?? (await previewMaskingFor(deps.db, conn.tenantId)) }),
    });
  } catch (e) {
    if (e instanceof AttemptDeadlineError) {
      // final, not retried: a source that does not answer within the deadline would hold a worker per try
      const reason = `No answer from the source within the attempt's deadline of ${seconds(e.ms)} (during ${STAGE_WORDS[stage] ?? stage}); the attempt was stopped`;
      const status: Status = stage === "credentials" ? "AWAITING_CREDENTIALS" : stage === "health_check" || stage === "connect" ? "NETWORK_BLOCKED" : "HEALING";
      const reachable = status === "HEALING";
      record({ stage, outcome: "fail", message: reason, durationMs: e.ms, status });
      return finish({ status, reason, reachable });
    }
    // 7. anything unexpected: ERROR with a redacted message, never a stack — unless a retry can
    // fix it (a lost database connection, a deadlock, a reset): then it is retried
    const message = redact(e instanceof Error ? e.message : String(e), secrets).slice(0, 300);
    deps.log?.warn({ connectionId: conn.id, stage, errorName: e instanceof Error ? e.name : typeof e, transient: isTransientError(e) }, "unexpected error in onboarding");
    record({ stage, outcome: "fail", message: `Unexpected error: ${message}`, durationMs: 0, status: "ERROR" });
    const final: FinalState = { status: "ERROR", reason: `Unexpected error during ${stage.replace("_", " ")}: ${message}`, reachable: false };
    if (isTransientError(e)) return { kind: "transient", stage, message: `Interrupted during ${stage.replace("_", " ")}: ${message}`, tries: MAX_RUN_ATTEMPTS, final, events, thrown: true };
    return finish(final);
  } finally {
    clearTimeout(timer);
    attemptSignal?.removeEventListener("abort", onAbort);
    await closeSource();
    sourceSignal?.dispose();
  }
}

export function toResult(row: AttemptRow): OnboardingResult {
  const result: OnboardingResult = {
    connection_id: row.id,
    status: row.status,
    namespace: row.namespace,
    first_sync_rows: row.firstSyncRows,
    latency_ms: row.latencyMs === null ? null : Math.round(row.latencyMs),
    funnel_stage: FUNNEL_STAGE[row.status],
    message: row.statusReason ?? "",
  };
  if (row.status === "AWAITING_CREDENTIALS" && isConsentLocator(row.credentialLocator)) result.consent_url = consentPath(row.id);
  if (row.status === "PENDING") result.status_url = statusPath(row.id);
  return result;
}

/** The seed's `onboard_connection()`: admit, then run inline when needed. Used by CLIs and tests. */
export async function onboardConnection(deps: PipelineDeps, tenantId: string, intent: ConnectionIntent): Promise<OnboardingResult> {
  const admitted = await admitIntent(deps.db, tenantId, intent);
  if (admitted.needsRun) await runAttempt(deps, admitted.id);
  const row = await getConnectionById(deps.db, admitted.id);
  return toResult(row!);
}
