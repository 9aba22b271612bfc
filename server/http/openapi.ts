/**
 * The OpenAPI 3.1 document for AOD's routes, generated from the same zod schemas the handlers
 * validate with (OpenAPI 3.1 schemas are JSON Schema 2020-12, which zod 4 emits).
 */
import { z } from "zod";
import { ConnectionIntentSchema, ErrorBodySchema, FunnelMetricsSchema, JsonValue, OnboardingResultSchema } from "../onboarding/schemas";

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
const err = (description: string) => ({ description, content: { "application/json": { schema: ref("Error") } } });
const bearer = [{ apiKey: [] }];

export function buildOpenApi(serverUrl?: string) {
  const BatchResult = z.object({
    accepted: z.number().int(),
    rejected: z.number().int(),
    items: z.array(z.union([z.object({ index: z.number().int(), connection_id: z.string(), status: z.string(), status_url: z.string() }), z.object({ index: z.number().int(), error: ErrorBodySchema.shape.error })])),
  });
  return {
    openapi: "3.1.0",
    info: { title: "AAM Auto-Onboarding API", version: "1.0.0", description: "Onboard data sources discovered by AOD in Safe Mode, and read the day-one coverage funnel." },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An AOD API key (aam_…), bound to one tenant." } },
      schemas: componentSchemas({
        ConnectionIntent: [ConnectionIntentSchema, "input"],
        OnboardingResult: [OnboardingResultSchema, "output"],
        FunnelMetrics: [FunnelMetricsSchema, "output"],
        Error: [ErrorBodySchema, "output"],
        BatchResult: [BatchResult, "output"],
      }),
    },
    security: bearer,
    paths: {
      "/api/connections/onboard": {
        post: {
          operationId: "onboardConnection",
          summary: "Onboard one data source in Safe Mode",
          parameters: [{ name: "async", in: "query", required: false, schema: { type: "string", enum: ["1"] }, description: "Answer 202 at once instead of waiting up to the time budget." }],
          requestBody: { required: true, content: { "application/json": { schema: ref("ConnectionIntent") } } },
          responses: {
            "200": { description: "Onboarding finished (any final status)", content: { "application/json": { schema: ref("OnboardingResult") } } },
            "202": { description: "Still onboarding; poll status_url", content: { "application/json": { schema: ref("OnboardingResult") } } },
            "400": err("Malformed JSON"),
            "401": err("No valid API key"),
            "403": err("Namespace is read-only (demo)"),
            "409": err("Source type is not supported (UNSUPPORTED); recorded and counted"),
            "413": err("Body too large"),
            "415": err("Not JSON"),
            "422": err("Validation failed; issues carry field paths"),
            "429": err("Rate limit of the API key exceeded"),
          },
        },
      },
      "/api/connections/onboard/batch": {
        post: {
          operationId: "onboardBatch",
          summary: "Queue up to 1,000 intents",
          requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["intents"], additionalProperties: false, properties: { intents: { type: "array", maxItems: 1000, items: ref("ConnectionIntent") } } } } } },
          responses: {
            "202": { description: "Accepted; per-item results", content: { "application/json": { schema: ref("BatchResult") } } },
            "400": err("Malformed JSON"),
            "401": err("No valid API key"),
            "413": err("More than 1,000 intents or body too large"),
            "422": err("No valid intent"),
            "429": err("Rate limit of the API key exceeded"),
          },
        },
      },
      "/api/connections/{id}": {
        get: {
          operationId: "getConnection",
          summary: "One connection: status, reason, first sync and stage history",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }],
          responses: { "200": { description: "The connection", content: { "application/json": { schema: ref("OnboardingResult") } } }, "401": err("No valid API key"), "404": err("Not found") },
        },
      },
      "/api/metrics/funnel": {
        get: {
          operationId: "getFunnel",
          summary: "The exact onboarding funnel and the day-one coverage SLO",
          parameters: [{ name: "namespace", in: "query", required: false, schema: { type: "string", default: "autonomy" } }],
          responses: { "200": { description: "Funnel", content: { "application/json": { schema: ref("FunnelMetrics") } } }, "401": err("No valid API key or session"), "422": err("Bad namespace") },
        },
      },
      "/api/health": { get: { operationId: "health", security: [], summary: "Liveness and database status", responses: { "200": { description: "Healthy" }, "503": { description: "Database down" } } } },
    },
  };
}
