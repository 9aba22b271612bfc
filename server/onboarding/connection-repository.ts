/**
 * The connection registry: the only module under onboarding/ that touches the database.
 * Upserts on the natural key in one statement (INSERT … ON CONFLICT), so 50 concurrent identical
 * posts produce one row; attempts are fenced by an attempt number so a stale run can never
 * overwrite a newer one; the final state, the stage events and a NOTIFY commit together.
 */
import { createHash } from "node:crypto";
import type { Db } from "../db/client";
import { Prisma, sqlExecute, sqlRows } from "../db/client";
import { normalizeResourceIds, resourceKey } from "./natural-key";
import type { ConnectionIntent, Status } from "./schemas";

export const FINAL_CHANNEL = "aam_connection_final";

export type ConnectionRow = {
  id: string;
  tenantId: string;
  namespace: string;
  sourceType: string;
  resourceIds: string[];
  status: Status;
  statusReason: string | null;
  reachable: boolean;
  intentId: string | null;
  credentialLocator: string;
  riskLevel: "low" | "med" | "high";
  evidence: unknown;
  owner: unknown;
  config: Record<string, unknown>;
  discoveredSchema: unknown;
  schemaFingerprint: string | null;
  firstSyncRows: number | null;
  latencyMs: number | null;
  samplePreview: unknown;
  /** set when the last attempt was refused as "destination not approved" */
  blockedDestination: unknown;
  attempts: number;
  firstReceivedAt: Date;
  lastReceivedAt: Date;
  lastAttemptAt: Date | null;
  activatedAt: Date | null;
  updatedAt: Date;
};

/**
 * A connection as an attempt needs it: what the try reads (the source, its resources, config and
 * locator; the fencing number) and what its result says (status, reason, first sync). The lease
 * and the final write return only these columns — not the JSON documents no step reads, nor the
 * preview and schema the final write has just written, which would be sent back to be parsed
 * again — so each of an attempt's two statements returns ~300 bytes instead of the whole row.
 * A full ConnectionRow is one too.
 */
export type AttemptRow = Pick<
  ConnectionRow,
  "id" | "tenantId" | "namespace" | "sourceType" | "resourceIds" | "status" | "statusReason" | "credentialLocator" | "config" | "firstSyncRows" | "latencyMs" | "attempts"
>;

const SELECT = {
  id: true, tenantId: true, namespace: true, sourceType: true, resourceIds: true, status: true, statusReason: true,
  reachable: true, intentId: true, credentialLocator: true, riskLevel: true, evidence: true, owner: true, config: true,
  discoveredSchema: true, schemaFingerprint: true, firstSyncRows: true, latencyMs: true, samplePreview: true, blockedDestination: true,
  attempts: true, firstReceivedAt: true, lastReceivedAt: true, lastAttemptAt: true, activatedAt: true, updatedAt: true,
} as const;

export function intentHash(intent: ConnectionIntent): string {
  const material = JSON.stringify([intent.credential_locator, intent.config ?? {}, intent.evidence.status, intent.scopes_mode]);
  return createHash("sha256").update(material).digest("hex").slice(0, 32);
}

export type UpsertOutcome = {
  id: string;
  status: Status;
  inserted: boolean;
  needsRun: boolean;
  /** the statement also took the connection's attempt lease for `lease.owner` (only when asked) */
  leased?: boolean;
  /** …and started its attempt (what startAttempt returns): the caller runs it at once */
  started?: StartedAttempt;
};

/**
 * Admission that also starts the attempt (startAttempt's work: fencing number + 1, the lease for
 * `owner`) of a connection that goes (or stays) PENDING with no lease holder: one round trip.
 */
export type AdmissionLease = { owner: string; leaseMs: number };

export type Decision = { status: Status; reason: string; stage: string };
export type Admittable = { intent: ConnectionIntent; decided?: Decision };

/**
 * Records intents in one statement (INSERT … SELECT … ON CONFLICT on the natural key). `decided`
 * is a final status known without running anything (UNSUPPORTED, NOT_SANCTIONED); otherwise the
 * row goes to PENDING unless it is ACTIVE (or already PENDING) for the same intent. Identical
 * intents within one call collapse to one row (the last wins); each input gets its outcome.
 * Decided outcomes get their stage event in the same statement, once: a re-post of an intent
 * decided the same way (same status and reason) adds none.
 */
export async function upsertIntents(db: Db, tenantId: string, items: readonly Admittable[], lease?: AdmissionLease): Promise<UpsertOutcome[]> {
  if (items.length === 0) return [];
  const keyOf = (i: ConnectionIntent, rkey: string) => `${i.namespace}\u0000${i.source_type}\u0000${rkey}`;
  const prepared = items.map(({ intent, decided }) => {
    const ids = normalizeResourceIds(intent.resource_ids);
    const rkey = resourceKey(ids);
    return {
      k: keyOf(intent, rkey),
      row: {
        namespace: intent.namespace,
        source_type: intent.source_type,
        resource_ids: ids,
        resource_key: rkey,
        status: decided?.status ?? "PENDING",
        status_reason: decided?.reason ?? "Queued for onboarding",
        stage: decided?.stage ?? null,
        intent_id: intent.intent_id ?? null,
        intent_hash: intentHash(intent),
        scopes_mode: intent.scopes_mode,
        credential_locator: intent.credential_locator,
        risk_level: intent.risk_level,
        evidence: intent.evidence,
        owner: intent.owner,
        config: intent.config ?? {},
      },
    };
  });
  // rows are locked in natural-key order, so concurrent batches with overlapping keys never deadlock
  const unique = new Map(prepared.map((p) => [p.k, p.row]));
  const ordered = [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  const leaseOwner = lease?.owner ?? null;
  const leaseMs = lease?.leaseMs ?? 0;
  const leasing = lease !== undefined;
  /** ON CONFLICT: the row ends PENDING (see status below) and no one holds its lease */
  const TAKES_LEASE = Prisma.sql`${leasing} AND EXCLUDED.status = 'PENDING'
    AND (connections.status <> 'ACTIVE' OR connections.intent_hash IS DISTINCT FROM EXCLUDED.intent_hash)
    AND connections.lease_owner IS NULL`;
  const rows = await sqlRows<({ id: string; status: Status; inserted: boolean; namespace: string; source_type: string; resource_key: string; leased: boolean } & SqlRow)>(db, Prisma.sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(ordered)}::jsonb) AS x(
        namespace text, source_type text, resource_ids text[], resource_key text, status text, status_reason text, stage text,
        intent_id text, intent_hash text, scopes_mode text, credential_locator text, risk_level text, evidence jsonb, owner jsonb, config jsonb)
    ), prev AS (
      -- the rows as they were before this statement (one snapshot for every CTE)
      SELECT c.id, c.status::text AS status, c.status_reason, c.lease_owner FROM connections c JOIN input i
        ON c.tenant_id = ${tenantId}::uuid AND c.namespace = i.namespace AND c.source_type = i.source_type AND c.resource_key = i.resource_key
    ), up AS (
      INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason,
        intent_id, intent_hash, scopes_mode, credential_locator, risk_level, evidence, owner, config, updated_at,
        lease_owner, lease_expires_at, attempts, last_attempt_at)
      SELECT gen_random_uuid(), ${tenantId}::uuid, namespace, source_type, resource_ids, resource_key, status::"ConnectionStatus",
        status_reason, intent_id, intent_hash, scopes_mode, credential_locator, risk_level::"RiskLevel", evidence, owner, config, now(),
        CASE WHEN ${leasing} AND status = 'PENDING' THEN ${leaseOwner}::text END,
        CASE WHEN ${leasing} AND status = 'PENDING' THEN now() + ${leaseMs}::float8 * interval '1 millisecond' END,
        CASE WHEN ${leasing} AND status = 'PENDING' THEN 1 ELSE 0 END,
        CASE WHEN ${leasing} AND status = 'PENDING' THEN now() END
      FROM input ORDER BY namespace COLLATE "C", source_type COLLATE "C", resource_key COLLATE "C"
      ON CONFLICT (tenant_id, namespace, source_type, resource_key) DO UPDATE SET
        last_received_at = now(),
        updated_at = now(),
        intent_id = COALESCE(EXCLUDED.intent_id, connections.intent_id),
        credential_locator = EXCLUDED.credential_locator,
        risk_level = EXCLUDED.risk_level,
        evidence = EXCLUDED.evidence,
        owner = EXCLUDED.owner,
        config = EXCLUDED.config,
        scopes_mode = EXCLUDED.scopes_mode,
        intent_hash = EXCLUDED.intent_hash,
        status = CASE
          WHEN EXCLUDED.status <> 'PENDING' THEN EXCLUDED.status
          WHEN connections.status IN ('ACTIVE', 'PENDING') AND connections.intent_hash = EXCLUDED.intent_hash THEN connections.status
          ELSE 'PENDING' END,
        status_reason = CASE
          WHEN EXCLUDED.status <> 'PENDING' THEN EXCLUDED.status_reason
          WHEN connections.status IN ('ACTIVE', 'PENDING') AND connections.intent_hash = EXCLUDED.intent_hash THEN connections.status_reason
          ELSE EXCLUDED.status_reason END,
        reachable = CASE WHEN EXCLUDED.status <> 'PENDING' THEN false ELSE connections.reachable END,
        -- a changed intent fences off an attempt already running with the old one
        attempts = connections.attempts + CASE WHEN connections.status = 'PENDING' AND connections.intent_hash <> EXCLUDED.intent_hash
          THEN 1 ELSE 0 END + CASE WHEN ${TAKES_LEASE} THEN 1 ELSE 0 END,
        last_attempt_at = CASE WHEN ${TAKES_LEASE} THEN now() ELSE connections.last_attempt_at END,
        -- …and starts a new run (a decided → PENDING move starts one too: the connections_new_run trigger)
        run_attempts = CASE WHEN connections.status = 'PENDING' AND connections.intent_hash <> EXCLUDED.intent_hash
          THEN 0 ELSE connections.run_attempts END,
        -- the single-intent path runs the attempt in this process at once: the attempt starts here
        -- (only when the row ends PENDING and no one holds its lease), so a crash right after this
        -- statement leaves a lease the reaper takes over, never a PENDING row without a runner
        lease_owner = CASE WHEN ${TAKES_LEASE} THEN ${leaseOwner}::text ELSE connections.lease_owner END,
        lease_expires_at = CASE WHEN ${TAKES_LEASE} THEN now() + ${leaseMs}::float8 * interval '1 millisecond' ELSE connections.lease_expires_at END
      RETURNING *, (xmax = 0) AS inserted
    ), decided AS (
      INSERT INTO connection_events (connection_id, attempt, stage, outcome, status, message, duration_ms)
      SELECT up.id, 0, input.stage, 'fail', up.status, input.status_reason, 0
      FROM up JOIN input USING (namespace, source_type, resource_key) LEFT JOIN prev ON prev.id = up.id
      -- a re-post of an intent already decided the same way adds no event
      WHERE input.stage IS NOT NULL
        AND (prev.id IS NULL OR prev.status IS DISTINCT FROM up.status::text OR prev.status_reason IS DISTINCT FROM input.status_reason)
    ), res AS (
      -- this statement started the attempt: it inserted the row with the lease, or found the row
      -- with no lease holder (a concurrent insert it conflicted with is not its own: prev misses it)
      SELECT up.*, (${leasing} AND up.status = 'PENDING' AND up.lease_owner IS NOT DISTINCT FROM ${leaseOwner}::text
        AND (up.inserted OR (prev.id IS NOT NULL AND prev.lease_owner IS NULL))) AS leased
      FROM up LEFT JOIN prev ON prev.id = up.id
    )
    SELECT ${lease ? Prisma.sql`${RETURNING}, run_attempts, (SELECT t.preview_masking FROM tenants t WHERE t.id = ${tenantId}::uuid) AS preview_masking` : Prisma.sql`id::text AS id, status::text AS status, namespace, source_type`},
      inserted, resource_key, leased FROM res`, lease ? "aam_admit_lease" : "aam_admit");
  const byKey = new Map(rows.map((r) => [`${r.namespace}\u0000${r.source_type}\u0000${r.resource_key}`, r]));
  return prepared.map((p) => {
    const r = byKey.get(p.k)!;
    const started = lease && r.leased ? { ...fromSql(r), runAttempts: r.run_attempts as number, previewMasking: (r.preview_masking as boolean | null) ?? true } : undefined;
    return { id: r.id, status: r.status, inserted: r.inserted, needsRun: r.status === "PENDING", ...(lease ? { leased: r.leased, started } : {}) };
  });
}

export async function upsertIntent(db: Db, tenantId: string, intent: ConnectionIntent, decided?: Decision): Promise<UpsertOutcome> {
  return (await upsertIntents(db, tenantId, [{ intent, decided }]))[0]!;
}

export async function getConnection(db: Db, tenantId: string, id: string): Promise<ConnectionRow | null> {
  const row = await db.connection.findFirst({ where: { id, tenantId }, select: SELECT });
  return row as ConnectionRow | null;
}

export async function getConnectionById(db: Db, id: string): Promise<ConnectionRow | null> {
  return (await db.connection.findUnique({ where: { id }, select: SELECT })) as ConnectionRow | null;
}

/** The columns of AttemptRow as the hot path's raw statements return them (ids and enums as text: no query compiler). */
const RETURNING = Prisma.sql`id::text AS id, tenant_id::text AS tenant_id, namespace, source_type, resource_ids, status::text AS status,
  status_reason, credential_locator, config, first_sync_rows, latency_ms, attempts`;

type SqlRow = Record<string, unknown>;
function fromSql(r: SqlRow): AttemptRow {
  return {
    id: r.id as string,
    tenantId: r.tenant_id as string,
    namespace: r.namespace as string,
    sourceType: r.source_type as string,
    resourceIds: r.resource_ids as string[],
    status: r.status as Status,
    statusReason: r.status_reason as string | null,
    credentialLocator: r.credential_locator as string,
    config: (r.config ?? {}) as Record<string, unknown>,
    firstSyncRows: r.first_sync_rows as number | null,
    latencyMs: r.latency_ms as number | null,
    attempts: r.attempts as number,
  };
}

/** A live worker: its worker_heartbeats row was written within one lease (server/jobs/worker.ts). */
const LIVE_OWNER = (leaseMs: number) => Prisma.sql`EXISTS (SELECT 1 FROM worker_heartbeats w WHERE w.id = connections.lease_owner
  AND w.seen_at > now() - ${leaseMs}::float8 * interval '1 millisecond')`;

/** `previewMasking`: the tenant's masking setting, read with the attempt's start where it can be (one statement fewer per onboarding) */
export type StartedAttempt = AttemptRow & { runAttempts: number; previewMasking?: boolean };

/**
 * Starts a try on a PENDING connection and takes its lease for `owner` (fencing number
 * `attempts` + 1). Null when it is not pending any more, or another owner holds a live lease:
 * only a lease that expired, of an owner with no live heartbeat, is taken over — and that counts
 * as a try of the run (the owner died in the middle of it).
 */
export async function startAttempt(db: Db, id: string, owner = "inline", leaseMs = 8_000): Promise<StartedAttempt | null> {
  const rows = await sqlRows<SqlRow>(db, Prisma.sql`
    UPDATE connections SET attempts = attempts + 1, last_attempt_at = now(),
      run_attempts = run_attempts + CASE WHEN lease_owner IS NOT NULL AND lease_owner <> ${owner} THEN 1 ELSE 0 END,
      lease_owner = ${owner}, lease_expires_at = now() + ${leaseMs}::float8 * interval '1 millisecond'
    WHERE id = ${id}::uuid AND status = 'PENDING'
      AND (lease_owner IS NULL OR lease_owner = ${owner} OR (lease_expires_at < now() AND NOT ${LIVE_OWNER(leaseMs)}))
    RETURNING ${RETURNING}, run_attempts, (SELECT t.preview_masking FROM tenants t WHERE t.id = connections.tenant_id) AS preview_masking`, "aam_start_attempt");
  if (!rows[0]) return null;
  // an unknown tenant cannot switch masking off
  return { ...fromSql(rows[0]), runAttempts: rows[0].run_attempts as number, previewMasking: (rows[0].preview_masking as boolean | null) ?? true };
}

/** The heartbeat: extends `owner`'s leases on `ids`; returns those still held, with their fencing number. */
export async function renewLeases(db: Db, owner: string, ids: readonly string[], leaseMs: number): Promise<{ id: string; attempts: number }[]> {
  if (!ids.length) return [];
  return sqlRows<{ id: string; attempts: number }>(db, Prisma.sql`
    UPDATE connections SET lease_expires_at = now() + ${leaseMs}::float8 * interval '1 millisecond'
    WHERE id = ANY(${[...ids]}::uuid[]) AND lease_owner = ${owner} AND status = 'PENDING'
    RETURNING id::text AS id, attempts`, "aam_renew_leases");
}

/**
 * A try of attempt `attempt` failed in a way a retry can fix: counts it in the run, says so in
 * the status reason and the history, and keeps the lease for the retry. Returns the tries used
 * in the run, or null when the attempt no longer holds the connection.
 */
export async function noteRetry(db: Db, id: string, attempt: number, owner: string, event: { stage: string; message: string; durationMs: number }): Promise<number | null> {
  const rows = await sqlRows<{ run_attempts: number }>(db, Prisma.sql`
    WITH upd AS (
      UPDATE connections SET run_attempts = run_attempts + 1, status_reason = ${event.message}, updated_at = now()
      WHERE id = ${id}::uuid AND attempts = ${attempt} AND lease_owner = ${owner} AND status = 'PENDING'
      RETURNING id, run_attempts
    ), ev AS (
      INSERT INTO connection_events (connection_id, attempt, stage, outcome, status, message, duration_ms)
      SELECT upd.id, ${attempt}, ${event.stage}, 'retry', 'PENDING', ${event.message}, ${event.durationMs} FROM upd
    )
    SELECT run_attempts FROM upd`, "aam_note_retry");
  return rows[0]?.run_attempts ?? null;
}

/** Hands a connection back (graceful shutdown): frees `owner`'s lease without counting a try. */
export async function releaseLease(db: Db, id: string, owner: string): Promise<boolean> {
  const n = await sqlExecute(db, Prisma.sql`UPDATE connections SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ${id}::uuid AND lease_owner = ${owner}`, "aam_release_lease");
  return n > 0;
}

/**
 * The fast reaper: frees expired leases of owners with no live heartbeat (a killed or frozen
 * worker) on PENDING connections, counting the lost try, except `keep` (attempts this process is
 * still running). Returns them with the tries used in their run, to re-queue or give up.
 */
export async function reapExpiredLeases(db: Db, leaseMs: number, keep: { owner: string; ids: readonly string[] }, limit = 500): Promise<{ id: string; runAttempts: number }[]> {
  const rows = await sqlRows<{ id: string; run_attempts: number }>(db, Prisma.sql`
    WITH c AS (
      SELECT id FROM connections
      WHERE status = 'PENDING' AND lease_expires_at < now() AND NOT ${LIVE_OWNER(leaseMs)}
        AND NOT (lease_owner = ${keep.owner} AND id = ANY(${[...keep.ids]}::uuid[]))
      ORDER BY lease_expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    )
    UPDATE connections x SET lease_owner = NULL, lease_expires_at = NULL, run_attempts = x.run_attempts + 1
    FROM c WHERE x.id = c.id RETURNING x.id::text AS id, x.run_attempts`, "aam_reap_expired");
  return rows.map((r) => ({ id: r.id, runAttempts: r.run_attempts }));
}

export type StageEvent = { stage: string; outcome: "ok" | "fail" | "skip"; message?: string; durationMs: number; status?: Status; at?: Date };

export type FinalState = {
  status: Status;
  reason: string;
  reachable: boolean;
  discoveredSchema?: unknown;
  schemaFingerprint?: string;
  firstSyncRows?: number | null;
  latencyMs?: number | null;
  samplePreview?: unknown;
  /** the destination an admin could approve (NETWORK_BLOCKED "destination not approved") */
  blockedDestination?: unknown;
};

/**
 * Writes the outcome of attempt `attempt` — the row, its stage events and the NOTIFY — in one
 * statement (atomic, one round trip). Returns the connection as written, or null when a newer
 * attempt has started or the connection is no longer pending.
 */
export async function finishAttempt(db: Db, id: string, attempt: number, final: FinalState, events: StageEvent[]): Promise<AttemptRow | null> {
  const setSchema = final.discoveredSchema !== undefined;
  const setSync = final.firstSyncRows !== undefined;
  const evJson = JSON.stringify(
    events.map((e) => ({ stage: e.stage, outcome: e.outcome, status: e.status ?? null, message: e.message ?? null, duration_ms: e.durationMs, at: (e.at ?? new Date()).toISOString() })),
  );
  const rows = await sqlRows<SqlRow>(db, Prisma.sql`
    WITH upd AS (
      UPDATE connections SET
        status = ${final.status}::"ConnectionStatus",
        status_reason = ${final.reason},
        reachable = ${final.reachable},
        updated_at = now(),
        discovered_schema = CASE WHEN ${setSchema} THEN ${JSON.stringify(final.discoveredSchema ?? null)}::jsonb ELSE discovered_schema END,
        schema_fingerprint = CASE WHEN ${setSchema} THEN ${final.schemaFingerprint ?? null} ELSE schema_fingerprint END,
        first_sync_rows = CASE WHEN ${setSync} THEN ${final.firstSyncRows ?? null}::int ELSE first_sync_rows END,
        latency_ms = CASE WHEN ${setSync} THEN ${final.latencyMs ?? null}::float8 ELSE latency_ms END,
        sample_preview = CASE WHEN ${setSync} THEN ${JSON.stringify(final.samplePreview ?? null)}::jsonb ELSE sample_preview END,
        blocked_destination = ${JSON.stringify(final.blockedDestination ?? null)}::jsonb,
        activated_at = CASE WHEN ${final.status} = 'ACTIVE' THEN COALESCE(activated_at, now()) ELSE activated_at END,
        lease_owner = NULL,
        lease_expires_at = NULL
      WHERE id = ${id}::uuid AND attempts = ${attempt} AND status = 'PENDING'
      -- (not *: the CTE is read three times, so PostgreSQL keeps its rows — the preview with them)
      RETURNING ${RETURNING}
    ), ev AS (
      INSERT INTO connection_events (connection_id, attempt, stage, outcome, status, message, duration_ms, at)
      SELECT upd.id::uuid, ${attempt}, e.stage, e.outcome, e.status::"ConnectionStatus", e.message, e.duration_ms, e.at
      FROM upd, jsonb_to_recordset(${evJson}::jsonb) AS e(stage text, outcome text, status text, message text, duration_ms float8, at timestamptz)
    ), notified AS (
      SELECT pg_notify(${FINAL_CHANNEL}, upd.id) FROM upd
    )
    SELECT upd.*, (SELECT count(*) FROM notified) AS notified FROM upd`, "aam_finish_attempt");
  return rows[0] ? fromSql(rows[0]) : null;
}

/** Moves HEALING and ERROR connections of one namespace (or one connection) back to PENDING for a new run. */
export async function markForHeal(db: Db, tenantId: string, namespace: string, connectionId?: string): Promise<string[]> {
  const rows = await db.connection.updateManyAndReturn({
    where: { tenantId, namespace, status: { in: ["HEALING", "ERROR"] }, ...(connectionId ? { id: connectionId } : {}) },
    data: { status: "PENDING", statusReason: "Queued for healing" },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

/** Events a view returns by default, and at most, per page. */
export const EVENTS_PAGE_DEFAULT = 50;
export const EVENTS_PAGE_MAX = 200;

const EVENT_SELECT = { id: true, attempt: true, stage: true, outcome: true, status: true, message: true, durationMs: true, at: true } as const;

/** An opaque cursor for "events older than this one": base64url of `<at ms>.<id>`. */
export function encodeEventCursor(e: { at: Date; id: bigint }): string {
  return Buffer.from(`${e.at.getTime()}.${e.id}`).toString("base64url");
}

/** The last instant a cursor may name (9999-12-31T23:59:59.999Z): beyond it the database's timestamps and Prisma's dates part ways. */
const CURSOR_MAX_MS = 253_402_300_799_999;
/** An event id is a PostgreSQL bigint. */
const CURSOR_MAX_ID = 2n ** 63n - 1n;

/**
 * The position a cursor names, or null when it is not one encodeEventCursor could have given out:
 * the instant and the id within the database's ranges (a larger one made the query fail, a 500),
 * and written exactly as encodeEventCursor writes them (no leading zeros, no other base64 form).
 */
export function decodeEventCursor(cursor: string): { at: Date; id: bigint } | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return null;
  const m = /^(0|[1-9]\d{0,14})\.([1-9]\d{0,18})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) return null;
  const ms = Number(m[1]);
  const id = BigInt(m[2]!);
  if (ms > CURSOR_MAX_MS || id > CURSOR_MAX_ID) return null;
  const position = { at: new Date(ms), id };
  return encodeEventCursor(position) === cursor ? position : null;
}

export type EventsPage = {
  /** the page, oldest first */
  events: { attempt: number; stage: string; outcome: string; status: Status | null; message: string | null; durationMs: number | null; at: Date }[];
  /** every event the connection has */
  total: number;
  /** pass as `before` for the next older page; null when this page reaches the first event */
  nextCursor: string | null;
};

/**
 * A page of a connection's event history: the latest `limit` events (before `before`, when
 * given), oldest first, with the total and the cursor of the next older page. Never reads the
 * whole history.
 */
export async function listEventsPage(db: Db, connectionId: string, opts: { limit?: number; before?: { at: Date; id: bigint } | null } = {}): Promise<EventsPage> {
  const limit = Math.max(1, Math.min(EVENTS_PAGE_MAX, Math.floor(opts.limit ?? EVENTS_PAGE_DEFAULT)));
  const b = opts.before;
  const [rows, total] = await Promise.all([
    db.connectionEvent.findMany({
      where: { connectionId, ...(b ? { OR: [{ at: { lt: b.at } }, { at: b.at, id: { lt: b.id } }] } : {}) },
      orderBy: [{ at: "desc" }, { id: "desc" }],
      take: limit + 1,
      select: EVENT_SELECT,
    }),
    db.connectionEvent.count({ where: { connectionId } }),
  ]);
  const page = rows.slice(0, limit).reverse();
  return {
    events: page.map(({ id: _id, ...e }) => e as EventsPage["events"][number]),
    total,
    nextCursor: rows.length > limit && page[0] ? encodeEventCursor(page[0]) : null,
  };
}

/** The latest events of a connection (at most `limit`), oldest first. */
export async function listEvents(db: Db, connectionId: string, limit = EVENTS_PAGE_MAX) {
  return (await listEventsPage(db, connectionId, { limit })).events;
}

/** Ends PENDING connections with no attempt holding them that used up the tries of their run, with a reason. Returns their ids. */
export async function giveUp(db: Db, ids: string[], maxAttempts: number, reason: string): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await db.connection.updateManyAndReturn({
    where: { id: { in: ids }, status: "PENDING", runAttempts: { gte: maxAttempts }, leaseOwner: null },
    data: { status: "ERROR", statusReason: reason, reachable: false },
    select: { id: true, attempts: true },
  });
  if (rows.length) {
    await db.connectionEvent.createMany({ data: rows.map((r) => ({ connectionId: r.id, attempt: r.attempts, stage: "recovery", outcome: "fail", status: "ERROR" as const, message: reason, durationMs: 0 })) });
  }
  return rows.map((r) => r.id);
}

/**
 * After admin consent: moves one AWAITING_CREDENTIALS connection of this tenant back to PENDING
 * (never in the read-only demo namespace) and records why in its history, in one transaction.
 * False when the connection is not (or no longer) awaiting credentials.
 */
export async function markForRetry(db: Db, tenantId: string, id: string, event?: { stage: string; message: string }): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const rows = await tx.connection.updateManyAndReturn({
      where: { id, tenantId, status: "AWAITING_CREDENTIALS", namespace: { not: "demo" } },
      data: { status: "PENDING", statusReason: "Queued for onboarding after admin consent", reachable: false },
      select: { id: true, attempts: true },
    });
    if (!rows[0]) return false;
    if (event) await tx.connectionEvent.create({ data: { connectionId: id, attempt: rows[0].attempts, stage: event.stage, outcome: "ok", status: "PENDING", message: event.message, durationMs: 0 } });
    return true;
  });
}

/**
 * Records a credentials-side event (consent denied, failed token exchange) on an
 * AWAITING_CREDENTIALS connection of this tenant and makes it the status reason; the status
 * stays. False when the connection is not awaiting credentials (or is in the demo namespace).
 */
export async function noteAwaitingCredentials(db: Db, tenantId: string, id: string, event: { stage: string; message: string }): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const rows = await tx.connection.updateManyAndReturn({
      where: { id, tenantId, status: "AWAITING_CREDENTIALS", namespace: { not: "demo" } },
      data: { statusReason: event.message },
      select: { id: true, attempts: true },
    });
    if (!rows[0]) return false;
    await tx.connectionEvent.create({ data: { connectionId: id, attempt: rows[0].attempts, stage: event.stage, outcome: "fail", status: "AWAITING_CREDENTIALS", message: event.message, durationMs: 0 } });
    return true;
  });
}

const awaitingConsent = (tenantId: string, opts: { locator?: string; ids?: readonly string[] }) => ({
  tenantId,
  status: "AWAITING_CREDENTIALS" as const,
  credentialLocator: opts.locator ?? { startsWith: "consent:" },
  // demo holds pre-existing rows that nothing here may change, so they are not offered for consent
  namespace: { not: "demo" },
  ...(opts.ids ? { id: { in: [...opts.ids] } } : {}),
});

/** How many of a tenant's connections wait on the browser consent `locator`. */
export async function countAwaitingConsent(db: Db, tenantId: string, locator: string): Promise<number> {
  return db.connection.count({ where: awaitingConsent(tenantId, { locator }) });
}

/** How many consents countAwaitingConsentByLocator names at most (the busiest; `locators` counts them all). */
export const MAX_CONSENT_LOCATORS = 100;

/**
 * How many of a tenant's connections wait on each browser consent locator (`consent:<provider>`),
 * most waiting first, each with its newest connection (whose consent screen gives that consent):
 * the admin's list of consents to give, where listAwaitingConsent shows only the newest
 * connections. One statement, so the counts and the totals agree; the locator is the intent's
 * to choose, so at most MAX_CONSENT_LOCATORS of them are named, `total` and `locators` count all.
 */
export async function countAwaitingConsentByLocator(db: Db, tenantId: string): Promise<{ total: number; locators: number; byLocator: { locator: string; waiting: number; newestId: string }[] }> {
  const rows = await sqlRows<{ locator: string; waiting: number; newest_id: string; total: number; locators: number }>(
    db,
    Prisma.sql`
      SELECT credential_locator AS locator, count(*)::int AS waiting, (array_agg(id::text ORDER BY updated_at DESC, id))[1] AS newest_id,
        (sum(count(*)) OVER ())::int AS total, (count(*) OVER ())::int AS locators
      FROM connections
      WHERE tenant_id = ${tenantId}::uuid AND status = 'AWAITING_CREDENTIALS' AND credential_locator LIKE 'consent:%' AND namespace <> 'demo'
      GROUP BY credential_locator
      ORDER BY waiting DESC, locator
      LIMIT ${MAX_CONSENT_LOCATORS}`,
  );
  return { total: rows[0]?.total ?? 0, locators: rows[0]?.locators ?? 0, byLocator: rows.map((r) => ({ locator: r.locator, waiting: r.waiting, newestId: r.newest_id })) };
}

/**
 * AWAITING_CREDENTIALS connections of a tenant whose credential is a browser consent (`consent:`),
 * newest first: every such locator, or only `locator`, or only the connections `ids` among them.
 */
export async function listAwaitingConsent(db: Db, tenantId: string, opts: { locator?: string; ids?: readonly string[]; limit?: number } = {}) {
  return db.connection.findMany({
    where: awaitingConsent(tenantId, opts),
    orderBy: [{ updatedAt: "desc" }, { id: "asc" }],
    take: opts.limit ?? 200,
    select: { id: true, namespace: true, sourceType: true, resourceIds: true, credentialLocator: true, statusReason: true, updatedAt: true },
  });
}

/** What a blocked connection waited on: which rows it is, what they say once queued, the event's stage. */
const RETRY_AFTER = {
  destination: { blockedDestination: { not: Prisma.AnyNull }, statusReason: "Queued for onboarding after a destination was approved", stage: "destination" },
  secret_binding: { blockedDestination: { equals: Prisma.AnyNull }, statusReason: "Queued for onboarding after an admin allowed its secret here", stage: "credentials" },
} as const;

/** Connections moved per transaction by markBlockedForRetry (its events' rows stay far below a statement's bind limit). */
const RETRY_CHUNK = 1_000;

/**
 * After an admin approved a destination: moves the NETWORK_BLOCKED connections `ids` of this
 * tenant that were refused as "destination not approved" back to PENDING (never in the demo
 * namespace), with an event saying who approved what — RETRY_CHUNK of them per transaction, so a
 * rule covering thousands moves them all. Returns the ids moved.
 */
export async function markBlockedForRetry(db: Db, tenantId: string, message: string, ids: readonly string[], waitingOn: "destination" | "secret_binding" = "destination"): Promise<string[]> {
  const moved: string[] = [];
  // blocked on a destination, or waiting for an admin to allow its secret where it would go
  const { blockedDestination, statusReason, stage } = RETRY_AFTER[waitingOn];
  const where = { status: "NETWORK_BLOCKED" as const, blockedDestination };
  for (let i = 0; i < ids.length; i += RETRY_CHUNK) {
    const chunk = ids.slice(i, i + RETRY_CHUNK);
    moved.push(
      ...(await db.$transaction(async (tx) => {
        const rows = await tx.connection.updateManyAndReturn({
          where: { tenantId, ...where, namespace: { not: "demo" }, id: { in: chunk } },
          data: { status: "PENDING", statusReason, reachable: false },
          select: { id: true, attempts: true },
        });
        if (rows.length > 0) {
          await tx.connectionEvent.createMany({ data: rows.map((r) => ({ connectionId: r.id, attempt: r.attempts, stage, outcome: "ok", status: "PENDING" as const, message, durationMs: 0 })) });
        }
        return rows.map((r) => r.id);
      })),
    );
  }
  return moved;
}

/** NETWORK_BLOCKED connections of a tenant, not on a destination, that use this locator for this source type (outside demo), at most `limit`. */
export async function listBlockedWithLocator(db: Db, tenantId: string, locator: string, sourceType: string, limit: number): Promise<{ id: string; config: Record<string, unknown> }[]> {
  const rows = await db.connection.findMany({
    where: { tenantId, status: "NETWORK_BLOCKED", blockedDestination: { equals: Prisma.AnyNull }, credentialLocator: locator, sourceType, namespace: { not: "demo" } },
    select: { id: true, config: true },
    orderBy: { id: "asc" },
    take: limit,
  });
  return rows.map((r) => ({ id: r.id, config: (r.config ?? {}) as Record<string, unknown> }));
}
