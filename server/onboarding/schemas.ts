/**
 * The wire contract with AOD (DESIGN.md "The intent", seed "New APIs"): ConnectionIntent,
 * OnboardingResult, FunnelMetrics. snake_case on the wire; unknown fields are rejected; every
 * string, array and object has a size limit; control characters and broken Unicode are refused
 * (PostgreSQL cannot store NUL, and nothing should half-write).
 */
import { z } from "zod";

export const NAMESPACE_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Text without control characters or lone surrogates. */
export const cleanString = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => s.isWellFormed(), "must be valid Unicode (no lone surrogates)")
    .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s), "must not contain control characters");

/** Keys that name secret material. `*_header` (a header's name, e.g. api_key_header) is not one. */
export const SECRET_KEY_RE = /(pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|client[_-]?key|access[_-]?key|signature|session[_-]?id|cookie|bearer)(?!.*_header$)/i;
/** Values that are secret material whatever their key: userinfo in URL-like values, PEM private keys, JWTs. */
const SECRET_VALUE_CHECKS: [RegExp, string][] = [
  [/^(?:[a-z][a-z0-9+.-]*:)?\/\/[^/?#\s]*@/i, "must not carry credentials (user:password@) in a URL; put them behind credential_locator"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "must not carry a private key; put it behind credential_locator"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./, "must not carry a token; put it behind credential_locator"],
];

/** How deep `config` may nest (config itself is level 1). Checked iteratively, before any recursive validation. */
export const MAX_CONFIG_DEPTH = 8;
/** How deep a whole intent may nest (body + config + its levels). */
export const MAX_INTENT_DEPTH = MAX_CONFIG_DEPTH + 2;

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
const JsonScalar = z.union([cleanString(2048), z.number().finite(), z.boolean(), z.null()]);
/**
 * A JSON value at most `levels` containers deep. Not recursive (z.lazy would recurse once per input
 * level and overflow the stack on a deeply nested body): each level is its own schema.
 */
function boundedJson(levels: number): z.ZodType<Json> {
  let schema: z.ZodType<Json> = JsonScalar;
  for (let i = 0; i < levels; i++) schema = z.union([JsonScalar, z.array(schema).max(100), z.record(cleanString(64), schema)]);
  return schema;
}
/** a config value: config is level 1, so its values may hold MAX_CONFIG_DEPTH − 1 more levels */
export const JsonValue: z.ZodType<Json> = boundedJson(MAX_CONFIG_DEPTH - 1);

export type ShapeIssue = { path: (string | number)[]; message: string };

/**
 * Walks a JSON value without recursion: the first level beyond `maxDepth` (path cut there), plus,
 * when `secrets` is set, secret-looking keys and secret-looking values at any depth.
 */
export function scanJson(value: unknown, opts: { maxDepth: number; secrets?: boolean; prefix?: (string | number)[] }): ShapeIssue[] {
  const issues: ShapeIssue[] = [];
  const stack: { v: unknown; path: (string | number)[]; depth: number }[] = [{ v: value, path: opts.prefix ?? [], depth: 0 }];
  let visited = 0;
  while (stack.length > 0 && issues.length < 20) {
    const { v, path, depth } = stack.pop()!;
    if (++visited > 200_000) {
      issues.push({ path, message: "is too large" });
      break;
    }
    if (typeof v === "string") {
      if (opts.secrets) for (const [re, message] of SECRET_VALUE_CHECKS) if (re.test(v)) issues.push({ path, message });
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > opts.maxDepth) {
      issues.push({ path, message: `nests deeper than ${opts.maxDepth} levels` });
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i], depth: depth + 1 });
    } else {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i]!;
        if (opts.secrets && SECRET_KEY_RE.test(k)) issues.push({ path: [...path, k], message: "config must not carry secrets; put them behind credential_locator" });
        stack.push({ v: x, path: [...path, k], depth: depth + 1 });
      }
    }
  }
  return issues;
}

export const EvidenceSchema = z.strictObject({
  status: cleanString(64).min(1),
  source: cleanString(128).min(1),
  ts: z.iso.datetime({ offset: true }),
});

export const OwnerSchema = z.strictObject({
  user: cleanString(320).min(1),
  confidence: z.number().min(0).max(1),
  why: cleanString(256).min(1),
});

export const RiskLevelSchema = z.enum(["low", "med", "high"]);

export const ConnectionIntentSchema = z
  .strictObject({
    source_type: cleanString(64).min(1).regex(/^[a-z0-9_]+$/, "must be lower-case letters, digits and underscores"),
    // "." and ".." name no resource, and inside a URL path they climb it (a parent endpoint of the API)
    resource_ids: z
      .array(cleanString(512).min(1).refine((id) => id.trim() !== "." && id.trim() !== "..", "a resource id may not be \".\" or \"..\""))
      .min(1, "needs at least one resource id")
      .max(100, "at most 100 resource ids"),
    scopes_mode: z.literal("safe_readonly", { error: "only safe_readonly is accepted" }).default("safe_readonly"),
    credential_locator: cleanString(512).min(1),
    namespace: cleanString(63).regex(NAMESPACE_RE, "must be lower-case letters, digits, '-' or '_'").default("autonomy"),
    risk_level: RiskLevelSchema,
    evidence: EvidenceSchema,
    owner: OwnerSchema,
    intent_id: cleanString(128).min(1).optional(),
    config: z
      .record(cleanString(64), JsonValue)
      .optional()
      .superRefine((cfg, ctx) => {
        if (!cfg) return;
        const issues = scanJson(cfg, { maxDepth: MAX_CONFIG_DEPTH, secrets: true });
        for (const i of issues) ctx.addIssue({ code: "custom", path: i.path, message: i.message });
        // JSON.stringify recurses: only on a value already known to be shallow
        if (!issues.some((i) => i.message.startsWith("nests deeper")) && JSON.stringify(cfg).length > 16_384) ctx.addIssue({ code: "custom", message: "config is larger than 16 KB" });
      }),
  })
  .meta({ id: "ConnectionIntent", description: "A data source discovered by AOD, to be onboarded in Safe Mode." });

export type ConnectionIntent = z.infer<typeof ConnectionIntentSchema>;
export type ConnectionIntentInput = z.input<typeof ConnectionIntentSchema>;

export const STATUSES = ["PENDING", "ACTIVE", "AWAITING_CREDENTIALS", "NETWORK_BLOCKED", "UNSUPPORTED", "HEALING", "ERROR", "NOT_SANCTIONED"] as const;
export const StatusSchema = z.enum(STATUSES);
export type Status = z.infer<typeof StatusSchema>;

export const FUNNEL_STAGE: Record<Status, string> = {
  PENDING: "pending",
  ACTIVE: "active",
  AWAITING_CREDENTIALS: "awaiting_credentials",
  NETWORK_BLOCKED: "network_blocked",
  UNSUPPORTED: "unsupported_type",
  HEALING: "healing",
  ERROR: "error",
  NOT_SANCTIONED: "not_sanctioned",
};

export const OnboardingResultSchema = z
  .strictObject({
    connection_id: z.string(),
    status: StatusSchema,
    namespace: z.string(),
    first_sync_rows: z.number().int().nullable(),
    latency_ms: z.number().nullable(),
    funnel_stage: z.string(),
    message: z.string(),
    consent_url: z.string().optional(),
    status_url: z.string().optional(),
  })
  .meta({ id: "OnboardingResult" });
export type OnboardingResult = z.infer<typeof OnboardingResultSchema>;

export const DayOneCohortSchema = z.strictObject({
  day: z.string().describe("UTC day (YYYY-MM-DD) the connections were first received"),
  received: z.number().int(),
  eligible: z.number().int(),
  active_day_one: z.number().int(),
  coverage: z.number(),
});

export const FunnelMetricsSchema = z
  .strictObject({
    namespace: z.string(),
    received: z.number().int().optional(),
    eligible: z.number().int(),
    reachable: z.number().int(),
    active: z.number().int(),
    awaiting_credentials: z.number().int(),
    network_blocked: z.number().int(),
    unsupported_type: z.number().int(),
    healing: z.number().int(),
    error: z.number().int(),
    not_sanctioned: z.number().int().optional(),
    pending: z.number().int().optional(),
    coverage: z.number(),
    slo_met: z.boolean(),
    target: z.number(),
    day_one: z.array(DayOneCohortSchema).optional(),
  })
  .meta({ id: "FunnelMetrics" });
export type FunnelMetrics = z.infer<typeof FunnelMetricsSchema>;

export const ErrorBodySchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
      connection_id: z.string().optional(),
    }),
  })
  .meta({ id: "Error" });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const BatchRequestSchema = z.strictObject({ intents: z.array(z.unknown()).min(1).max(1000, "at most 1,000 intents per batch") });

/** zod issues → `[{ path: "evidence.ts", message }]` for error bodies. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
}
