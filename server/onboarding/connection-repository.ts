/**
 * The connection registry: the only module under onboarding/ that touches the database.
 * Upserts on the natural key in one statement (INSERT … ON CONFLICT), so 50 concurrent identical
 * posts produce one row; attempts are fenced by an attempt number so a stale run can never
 * overwrite a newer one; the final state, the stage events and a NOTIFY commit together.
 */
import { createHash } from "node:crypto";
import type { Db } from "../db/client";
import { Prisma } from "../db/client";
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
  attempts: number;
  firstReceivedAt: Date;
  lastReceivedAt: Date;
  lastAttemptAt: Date | null;
  activatedAt: Date | null;
  updatedAt: Date;
};

const SELECT = {
  id: true, tenantId: true, namespace: true, sourceType: true, resourceIds: true, status: true, statusReason: true,
  reachable: true, intentId: true, credentialLocator: true, riskLevel: true, evidence: true, owner: true, config: true,
  discoveredSchema: true, schemaFingerprint: true, firstSyncRows: true, latencyMs: true, samplePreview: true,
  attempts: true, firstReceivedAt: true, lastReceivedAt: true, lastAttemptAt: true, activatedAt: true, updatedAt: true,
} as const;

export function intentHash(intent: ConnectionIntent): string {
  const material = JSON.stringify([intent.credential_locator, intent.config ?? {}, intent.evidence.status, intent.scopes_mode]);
  return createHash("sha256").update(material).digest("hex").slice(0, 32);
}

export type UpsertOutcome = { id: string; status: Status; inserted: boolean; needsRun: boolean };

/**
 * Records an intent. `decided` is a final status known without running anything (UNSUPPORTED,
 * NOT_SANCTIONED); otherwise the row goes to PENDING unless it is ACTIVE for the same intent.
 */
export async function upsertIntent(
  db: Db,
  tenantId: string,
  intent: ConnectionIntent,
  decided?: { status: Status; reason: string },
): Promise<UpsertOutcome> {
  const ids = normalizeResourceIds(intent.resource_ids);
  const key = resourceKey(ids);
  const hash = intentHash(intent);
  const status = decided?.status ?? "PENDING";
  const reason = decided?.reason ?? "Queued for onboarding";
  const rows = await db.$queryRaw<{ id: string; status: Status; inserted: boolean }[]>`
    INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason,
      intent_id, intent_hash, scopes_mode, credential_locator, risk_level, evidence, owner, config, updated_at)
    VALUES (gen_random_uuid(), ${tenantId}::uuid, ${intent.namespace}, ${intent.source_type}, ${ids}::text[], ${key},
      ${status}::"ConnectionStatus", ${reason}, ${intent.intent_id ?? null}, ${hash}, ${intent.scopes_mode},
      ${intent.credential_locator}, ${intent.risk_level}::"RiskLevel", ${JSON.stringify(intent.evidence)}::jsonb,
      ${JSON.stringify(intent.owner)}::jsonb, ${JSON.stringify(intent.config ?? {})}::jsonb, now())
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
      attempts = CASE WHEN connections.status = 'PENDING' AND connections.intent_hash <> EXCLUDED.intent_hash
        THEN connections.attempts + 1 ELSE connections.attempts END
    RETURNING id::text AS id, status::text AS status, (xmax = 0) AS inserted`;
  const row = rows[0]!;
  return { ...row, needsRun: row.status === "PENDING" };
}

export async function recordDecisionEvent(db: Db, connectionId: string, stage: string, status: Status, message: string): Promise<void> {
  await db.connectionEvent.create({ data: { connectionId, attempt: 0, stage, outcome: "fail", status, message, durationMs: 0 } });
}

export async function getConnection(db: Db, tenantId: string, id: string): Promise<ConnectionRow | null> {
  const row = await db.connection.findFirst({ where: { id, tenantId }, select: SELECT });
  return row as ConnectionRow | null;
}

export async function getConnectionById(db: Db, id: string): Promise<ConnectionRow | null> {
  return (await db.connection.findUnique({ where: { id }, select: SELECT })) as ConnectionRow | null;
}

/** Starts an attempt on a PENDING connection; null when it is not pending any more. */
export async function startAttempt(db: Db, id: string): Promise<ConnectionRow | null> {
  const res = await db.connection.updateManyAndReturn({
    where: { id, status: "PENDING" },
    data: { attempts: { increment: 1 }, lastAttemptAt: new Date() },
    select: SELECT,
  });
  return (res[0] as ConnectionRow | undefined) ?? null;
}

export type StageEvent = { stage: string; outcome: "ok" | "fail" | "skip"; message?: string; durationMs: number; status?: Status };

export type FinalState = {
  status: Status;
  reason: string;
  reachable: boolean;
  discoveredSchema?: unknown;
  schemaFingerprint?: string;
  firstSyncRows?: number | null;
  latencyMs?: number | null;
  samplePreview?: unknown;
};

/** Writes the outcome of attempt `attempt`; a no-op (false) when a newer attempt has started. */
export async function finishAttempt(db: Db, id: string, attempt: number, final: FinalState, events: StageEvent[]): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const now = new Date();
    const data: Prisma.ConnectionUpdateManyMutationInput = {
      status: final.status,
      statusReason: final.reason,
      reachable: final.reachable,
      updatedAt: now,
    };
    if (final.discoveredSchema !== undefined) data.discoveredSchema = final.discoveredSchema as Prisma.InputJsonValue;
    if (final.schemaFingerprint !== undefined) data.schemaFingerprint = final.schemaFingerprint;
    if (final.firstSyncRows !== undefined) data.firstSyncRows = final.firstSyncRows;
    if (final.latencyMs !== undefined) data.latencyMs = final.latencyMs;
    if (final.samplePreview !== undefined) data.samplePreview = final.samplePreview as Prisma.InputJsonValue;
    const updated = await tx.connection.updateMany({ where: { id, attempts: attempt, status: "PENDING" }, data });
    if (updated.count === 0) return false;
    if (final.status === "ACTIVE") {
      // activated_at is the first time the connection became ACTIVE (day-one coverage needs it)
      await tx.connection.updateMany({ where: { id, activatedAt: null }, data: { activatedAt: now } });
    }
    if (events.length) {
      await tx.connectionEvent.createMany({
        data: events.map((e) => ({ connectionId: id, attempt, stage: e.stage, outcome: e.outcome, status: e.status ?? null, message: e.message ?? null, durationMs: e.durationMs })),
      });
    }
    await tx.$executeRaw`SELECT pg_notify(${FINAL_CHANNEL}, ${id})`;
    return true;
  });
}

/** Moves HEALING connections of one namespace (or one connection) back to PENDING for a re-run. */
export async function markForHeal(db: Db, tenantId: string, namespace: string, connectionId?: string): Promise<string[]> {
  const rows = await db.connection.updateManyAndReturn({
    where: { tenantId, namespace, status: "HEALING", ...(connectionId ? { id: connectionId } : {}) },
    data: { status: "PENDING", statusReason: "Queued for healing" },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

/** PENDING connections with no live attempt (crashed worker, lost job): candidates to re-queue. */
export async function findStuckPending(db: Db, olderThanMs: number, limit = 500): Promise<string[]> {
  const cutoff = new Date(Date.now() - olderThanMs);
  const rows = await db.connection.findMany({
    where: { status: "PENDING", OR: [{ lastAttemptAt: { lt: cutoff } }, { lastAttemptAt: null, lastReceivedAt: { lt: cutoff } }] },
    select: { id: true },
    take: limit,
  });
  return rows.map((r) => r.id);
}

export async function listEvents(db: Db, connectionId: string) {
  return db.connectionEvent.findMany({
    where: { connectionId },
    orderBy: [{ at: "asc" }, { id: "asc" }],
    select: { attempt: true, stage: true, outcome: true, status: true, message: true, durationMs: true, at: true },
  });
}

/** Ends PENDING connections that used up their attempts, with a reason. Returns their ids. */
export async function giveUp(db: Db, ids: string[], maxAttempts: number, reason: string): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await db.connection.updateManyAndReturn({
    where: { id: { in: ids }, status: "PENDING", attempts: { gte: maxAttempts } },
    data: { status: "ERROR", statusReason: reason, reachable: false },
    select: { id: true },
  });
  if (rows.length) {
    await db.connectionEvent.createMany({ data: rows.map((r) => ({ connectionId: r.id, attempt: maxAttempts, stage: "recovery", outcome: "fail", status: "ERROR" as const, message: reason, durationMs: 0 })) });
  }
  return rows.map((r) => r.id);
}
