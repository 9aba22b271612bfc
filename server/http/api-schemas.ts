/**
 * The REST answers that are not onboarding schemas of their own: the connection view of
 * `GET /api/connections/{id}`, the batch result, and `/api/health`. The OpenAPI document is
 * generated from these (server/http/openapi.ts) and the contract test validates every answer the
 * handlers give against that document, so a field or status that is not described here fails the
 * suite.
 */
import { z } from "zod";
import { ErrorBodySchema, OnboardingResultSchema, StatusSchema } from "../onboarding/schemas";

export const ConnectionEventSchema = z.strictObject({
  attempt: z.number().int(),
  stage: z.string().describe("pipeline stage: credentials, health_check, discover, first_sync, …"),
  outcome: z.string().describe("ok or fail"),
  status: StatusSchema.nullable(),
  message: z.string().nullable(),
  duration_ms: z.number().nullable(),
  at: z.iso.datetime({ offset: true }),
});

export const ConnectionViewSchema = OnboardingResultSchema.extend({
  source_type: z.string(),
  resource_ids: z.array(z.string()),
  risk_level: z.enum(["low", "med", "high"]),
  credential_locator: z.string().describe("the locator as posted (never the secret it names)"),
  evidence: z.unknown(),
  owner: z.unknown(),
  intent_id: z.string().nullable(),
  schema_fingerprint: z.string().nullable(),
  discovered_streams: z.number().int().nullable(),
  attempts: z.number().int(),
  sandbox: z.boolean().describe("true when the source is one of the local sandbox stand-ins, not a real vendor"),
  first_received_at: z.iso.datetime({ offset: true }),
  last_attempt_at: z.iso.datetime({ offset: true }).nullable(),
  activated_at: z.iso.datetime({ offset: true }).nullable(),
  events: z.array(ConnectionEventSchema).describe("the latest page of the stage history (at most events_limit, default 50), oldest first"),
  events_total: z.number().int().describe("how many events the connection has in all"),
  events_next_cursor: z.string().nullable().describe("pass as the events_before query parameter for the next older page; null when events reaches the first event"),
}).meta({ id: "ConnectionView", description: "One connection: status, reason, first sync and the stage history (never row data or secrets)." });

export const BatchItemSchema = z.union([
  z.strictObject({ index: z.number().int(), connection_id: z.string(), status: StatusSchema, status_url: z.string() }),
  z.strictObject({ index: z.number().int(), error: ErrorBodySchema.shape.error }),
]);

export const BatchResultSchema = z
  .strictObject({ accepted: z.number().int(), rejected: z.number().int(), items: z.array(BatchItemSchema) })
  .meta({ id: "BatchResult", description: "Per-item results, in the order posted." });

export const BatchRefusedSchema = z
  .strictObject({
    error: ErrorBodySchema.shape.error.extend({
      items: z.array(BatchItemSchema).describe("every item's own refusal, in the order posted (the same codes a batch with an accepted item carries)"),
    }),
  })
  .meta({ id: "BatchRefused", description: "A batch none of whose intents was accepted: the error, with each item's refusal." });

export const HealthSchema = z
  .strictObject({
    status: z.enum(["ok", "degraded"]),
    reason: z.string().optional().meta({ description: "Why it is degraded, in words (absent when ok)." }),
    database: z.strictObject({ status: z.enum(["up", "down"]), latency_ms: z.number().nullable(), migrations: z.number().int().nullable() }),
    worker: z
      .strictObject({ status: z.enum(["starting", "running", "retrying", "stopping"]) })
      .optional()
      .meta({ description: "This process's onboarding worker (absent when it runs none)." }),
  })
  .meta({ id: "Health" });
