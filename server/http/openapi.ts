/**
 * The OpenAPI 3.1 document for AOD's routes, generated from the same zod schemas the handlers
 * validate with and answer with (OpenAPI 3.1 schemas are JSON Schema 2020-12, which zod 4
 * emits). Every status a route can return is listed with its body and the headers that matter
 * (Location on 202, Retry-After on 429, WWW-Authenticate on 401); the contract test
 * (tests/api/contract.test.ts) validates every answer of the handlers against this document.
 */
import { z } from "zod";
import { ConnectionIntentSchema, ErrorBodySchema, FunnelMetricsSchema, JsonValue, OnboardingResultSchema } from "../onboarding/schemas";
import { BatchRefusedSchema, BatchResultSchema, ConnectionViewSchema, HealthSchema } from "./api-schemas";

/** All component schemas from one registry, so shared pieces become named components too. */
function componentSchemas(entries: Record<string, [z.ZodType, "input" | "output"]>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const io of ["input", "output"] as const) {
    const registry = z.registry<{ id: string }>();
    registry.add(JsonValue, { id: "JsonValue" });
    for (const [id, [schema, want]] of Object.entries(entries)) if (want === io) registry.add(schema, { id });
    const { schemas } = z.toJSONSchema(registry, { io, unrepresentable: "any", target: "draft-2020-12", uri: (id) => `#/components/schemas/${id}` });
    for (const [id, schema] of Object.entries(schemas)) {
      const { $schema: _s, $id: _i, id: _d, ...rest } = schema as Record<string, unknown>;
      out[id] = rest;
    }
  }
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const bearer = [{ apiKey: [] }];

// ---------------------------------------------------------------- examples (the seed's, where it has one)

const EXAMPLE_INTENT = {
  source_type: "salesforce",
  resource_ids: ["org_00D5g000004ExmA"],
  scopes_mode: "safe_readonly",
  credential_locator: "vault:salesforce-prod-token",
  namespace: "autonomy",
  risk_level: "low",
  evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
  owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
};
const EXAMPLE_ID = "550e8400-e29b-41d4-a716-446655440000";
const EXAMPLE_RESULT = {
  connection_id: EXAMPLE_ID,
  status: "ACTIVE",
  namespace: "autonomy",
  first_sync_rows: 15,
  latency_ms: 250,
  funnel_stage: "active",
  message: "Onboarded successfully in Safe Mode",
};
const EXAMPLE_PENDING = { ...EXAMPLE_RESULT, status: "PENDING", first_sync_rows: null, latency_ms: null, funnel_stage: "pending", message: "Queued for onboarding", status_url: `/api/connections/${EXAMPLE_ID}` };
const EXAMPLE_FUNNEL = {
  namespace: "autonomy",
  received: 102,
  eligible: 100,
  reachable: 95,
  active: 92,
  awaiting_credentials: 3,
  network_blocked: 2,
  unsupported_type: 1,
  healing: 1,
  error: 1,
  not_sanctioned: 1,
  pending: 0,
  coverage: 0.92,
  slo_met: true,
  target: 0.9,
  day_one: [{ day: "2025-11-08", received: 102, eligible: 100, active_day_one: 92, coverage: 0.92 }],
};
const EXAMPLE_VIEW = {
  ...EXAMPLE_RESULT,
  source_type: "salesforce",
  resource_ids: ["org_00D5g000004ExmA"],
  risk_level: "low",
  credential_locator: "vault:salesforce-prod-token",
  evidence: EXAMPLE_INTENT.evidence,
  owner: EXAMPLE_INTENT.owner,
  intent_id: null,
  schema_fingerprint: "9f2c4e1a7b3d5c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6",
  discovered_streams: 4,
  attempts: 1,
  sandbox: false,
  first_received_at: "2025-11-08T18:00:01.000Z",
  last_attempt_at: "2025-11-08T18:00:01.020Z",
  activated_at: "2025-11-08T18:00:01.270Z",
  events: [
    { attempt: 1, stage: "credentials", outcome: "ok", status: null, message: null, duration_ms: 3.1, at: "2025-11-08T18:00:01.023Z" },
    { attempt: 1, stage: "health_check", outcome: "ok", status: null, message: null, duration_ms: 61.4, at: "2025-11-08T18:00:01.085Z" },
    { attempt: 1, stage: "discover", outcome: "ok", status: null, message: "4 stream(s), fingerprint 9f2c4e1a7b3d", duration_ms: 120.2, at: "2025-11-08T18:00:01.205Z" },
    { attempt: 1, stage: "first_sync", outcome: "ok", status: "ACTIVE", message: "15 record(s)", duration_ms: 250, at: "2025-11-08T18:00:01.270Z" },
  ],
  events_total: 4,
  events_next_cursor: null,
};
const EXAMPLE_BATCH = {
  accepted: 1,
  rejected: 1,
  items: [
    { index: 0, connection_id: EXAMPLE_ID, status: "PENDING", status_url: `/api/connections/${EXAMPLE_ID}` },
    { index: 1, error: { code: "VALIDATION_FAILED", message: "Not a valid connection intent.", issues: [{ path: "risk_level", message: 'Invalid option: expected one of "low"|"med"|"high"' }] } },
  ],
};
const EXAMPLE_BATCH_REFUSED = {
  error: {
    code: "VALIDATION_FAILED",
    message: "No intent in the batch was accepted; each item says why.",
    issues: [{ path: "intents.0.namespace", message: 'The "demo" namespace holds pre-existing connections and cannot be written by auto-onboarding.' }],
    items: [{ index: 0, error: { code: "NAMESPACE_READ_ONLY", message: 'The "demo" namespace holds pre-existing connections and cannot be written by auto-onboarding.', issues: [{ path: "namespace", message: 'The "demo" namespace holds pre-existing connections and cannot be written by auto-onboarding.' }] } }],
  },
};
const EXAMPLE_HEALTH = { status: "ok", database: { status: "up", latency_ms: 1.2, migrations: 6 } };

// ---------------------------------------------------------------- responses

const errorExample = (code: string, message: string, issues?: { path: string; message: string }[]) => ({ error: { code, message, ...(issues ? { issues } : {}) } });

/** An error answer with its body schema, an example, and the headers that come with it. */
function err(description: string, code: string, message: string, headers?: Record<string, unknown>, issues?: { path: string; message: string }[]) {
  return { description, ...(headers ? { headers } : {}), content: { "application/json": { schema: ref("Error"), example: errorExample(code, message, issues) } } };
}

const H = {
  wwwAuthenticate: { "WWW-Authenticate": { description: "The bearer challenge (`Bearer realm=\"aam\"`).", required: true, schema: { type: "string" } } },
  retryAfter: { "Retry-After": { description: "Seconds to wait before the next request with this key.", required: true, schema: { type: "string", pattern: "^[0-9]+$" } } },
  retryAfterServer: { "Retry-After": { description: "Seconds to wait before retrying.", required: true, schema: { type: "string", pattern: "^[0-9]+$" } } },
  location: { Location: { description: "Where to poll the connection (`status_url`).", required: true, schema: { type: "string" } } },
};

const common = {
  "401": err("No valid API key", "UNAUTHENTICATED", "A valid API key is required: send `Authorization: Bearer <key>`.", H.wwwAuthenticate),
  "429": err("Rate limit of the API key exceeded", "RATE_LIMITED", "This API key is limited to 600 requests a minute; retry in 1 s.", H.retryAfter),
};
/** What any keyed operation may answer when the server cannot (server/http/respond.ts apiHandler); retrying is safe. */
const serverErrors = {
  "500": err("An unexpected error; the message carries a reference an operator finds in the log", "INTERNAL_ERROR", "Something went wrong on the server (reference 3f2a9c1d); retrying the request is safe, or give an operator this reference."),
  "503": err("The database is unreachable or busy; retry after Retry-After", "SERVICE_UNAVAILABLE", "The service cannot check API keys right now (its database is unreachable); retry in a few seconds.", H.retryAfterServer),
};
const bodyErrors = {
  "400": err("Malformed JSON, or a body that is not valid UTF-8", "MALFORMED_JSON", "The request body is not valid JSON (at position 1)."),
  "415": err("Not JSON", "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json."),
};

export function buildOpenApi(serverUrl?: string) {
  return {
    openapi: "3.1.0",
    info: { title: "AAM Auto-Onboarding API", version: "1.0.0", description: "Onboard data sources discovered by AOD in Safe Mode, and read the day-one coverage funnel." },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An AOD API key (aam_…), bound to one tenant." } },
      schemas: componentSchemas({
        ConnectionIntent: [ConnectionIntentSchema, "input"],
        OnboardingResult: [OnboardingResultSchema, "output"],
        ConnectionView: [ConnectionViewSchema, "output"],
        FunnelMetrics: [FunnelMetricsSchema, "output"],
        Error: [ErrorBodySchema, "output"],
        BatchResult: [BatchResultSchema, "output"],
        BatchRefused: [BatchRefusedSchema, "output"],
        Health: [HealthSchema, "output"],
      }),
    },
    security: bearer,
    paths: {
      "/api/connections/onboard": {
        post: {
          operationId: "onboardConnection",
          summary: "Onboard one data source in Safe Mode",
          parameters: [{ name: "async", in: "query", required: false, schema: { type: "string", enum: ["1", "true"] }, description: "Answer 202 at once instead of waiting up to the time budget." }],
          requestBody: { required: true, content: { "application/json": { schema: ref("ConnectionIntent"), example: EXAMPLE_INTENT } } },
          responses: {
            "200": { description: "Onboarding finished (any final status)", content: { "application/json": { schema: ref("OnboardingResult"), example: EXAMPLE_RESULT } } },
            "202": { description: "Still onboarding; poll status_url", headers: H.location, content: { "application/json": { schema: ref("OnboardingResult"), example: EXAMPLE_PENDING } } },
            ...bodyErrors,
            "401": common["401"],
            "403": err("Namespace is read-only (demo)", "NAMESPACE_READ_ONLY", "The demo namespace is read-only.", undefined, [{ path: "namespace", message: "The demo namespace is read-only." }]),
            "409": err("Source type is not supported (UNSUPPORTED); recorded and counted", "UNSUPPORTED", 'Source type "fax" is not on the allowlist'),
            "413": err("Body too large", "PAYLOAD_TOO_LARGE", "The request body is larger than 256 KB."),
            "422": err("Validation failed; issues carry field paths", "VALIDATION_FAILED", "The request body is not a valid connection intent.", undefined, [{ path: "owner.confidence", message: "Too big: expected number to be <=1" }]),
            "429": common["429"],
            ...serverErrors,
          },
        },
      },
      "/api/connections/onboard/batch": {
        post: {
          operationId: "onboardBatch",
          summary: "Queue up to 1,000 intents",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: { type: "object", required: ["intents"], additionalProperties: false, properties: { intents: { type: "array", minItems: 1, maxItems: 1000, items: ref("ConnectionIntent") } } },
                example: { intents: [EXAMPLE_INTENT, { ...EXAMPLE_INTENT, risk_level: "extreme" }] },
              },
            },
          },
          responses: {
            "202": { description: "Accepted; per-item results", content: { "application/json": { schema: ref("BatchResult"), example: EXAMPLE_BATCH } } },
            ...bodyErrors,
            "401": common["401"],
            "413": err("More than 1,000 intents (BATCH_TOO_LARGE), or a body over 8 MB (PAYLOAD_TOO_LARGE)", "BATCH_TOO_LARGE", "A batch holds at most 1,000 intents."),
            "422": {
              description: "Not {\"intents\": [...]} (an Error), or no intent was accepted: the Error then carries `items`, each item's own refusal (VALIDATION_FAILED, NAMESPACE_READ_ONLY)",
              content: { "application/json": { schema: { oneOf: [ref("BatchRefused"), ref("Error")] }, example: EXAMPLE_BATCH_REFUSED } },
            },
            "429": common["429"],
            ...serverErrors,
          },
        },
      },
      "/api/connections/{id}": {
        get: {
          operationId: "getConnection",
          summary: "One connection: status, reason, first sync and stage history",
          description: "The event history is paginated: `events` holds the latest `events_limit` events (oldest first), `events_total` counts them all, and `events_next_cursor`, passed as `events_before`, returns the next older page.",
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "string" }, description: "The connection_id (a UUID); anything else answers 404.", example: EXAMPLE_ID },
            { name: "events_limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 200, default: 50 }, description: "How many events to return." },
            { name: "events_before", in: "query", required: false, schema: { type: "string" }, description: "An events_next_cursor from a previous answer: return the events older than it." },
          ],
          responses: {
            "200": { description: "The connection", content: { "application/json": { schema: ref("ConnectionView"), example: EXAMPLE_VIEW } } },
            "401": common["401"],
            "404": err("No connection of this key's tenant has this id", "NOT_FOUND", "No connection has this id."),
            "422": err("Bad events_limit or events_before", "VALIDATION_FAILED", "events_before is not a cursor this API gave out.", undefined, [{ path: "events_before", message: "events_before is not a cursor this API gave out." }]),
            "429": common["429"],
            ...serverErrors,
          },
        },
      },
      "/api/metrics/funnel": {
        get: {
          operationId: "getFunnel",
          summary: "The exact onboarding funnel and the day-one coverage SLO",
          parameters: [{ name: "namespace", in: "query", required: false, schema: { type: "string", default: "autonomy" }, example: "autonomy" }],
          responses: {
            "200": { description: "Funnel", content: { "application/json": { schema: ref("FunnelMetrics"), example: EXAMPLE_FUNNEL } } },
            "401": err("No valid API key or session", "UNAUTHENTICATED", "A valid API key is required: send `Authorization: Bearer <key>`.", H.wwwAuthenticate),
            "422": err("Bad namespace", "VALIDATION_FAILED", "namespace must be lower-case letters, digits, '-' or '_'", undefined, [{ path: "namespace", message: "Invalid string" }]),
            "429": common["429"],
            ...serverErrors,
          },
        },
      },
      "/api/health": {
        get: {
          operationId: "health",
          security: [],
          summary: "Liveness and database status",
          responses: {
            "200": { description: "Up: `ok`, or `degraded` with a reason while only this process's onboarding worker is starting or retrying (the database answers)", content: { "application/json": { schema: ref("Health"), example: EXAMPLE_HEALTH } } },
            "503": { description: "The database is down (degraded)", content: { "application/json": { schema: ref("Health"), example: { status: "degraded", database: { status: "down", latency_ms: null, migrations: null } } } } },
          },
        },
      },
      "/api/openapi.json": {
        get: { operationId: "openapi", security: [], summary: "This document", responses: { "200": { description: "The OpenAPI 3.1 document", content: { "application/json": { schema: { type: "object" } } } } } },
      },
    },
  };
}
