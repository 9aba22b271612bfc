/**
 * Admission of an untrusted `connection_intent` (DESIGN.md "The intent", "The trust boundary"),
 * before anything is stored:
 *  1. shape limits, checked iteratively (no recursion, so a body nested 100,000 levels deep is a
 *     422 and never a stack overflow): `config` at most MAX_CONFIG_DEPTH levels, every other field
 *     at most a few;
 *  2. the zod schema (types, sizes, unknown fields, secret-looking keys and values at any depth);
 *  3. the catalog entry's typed config fields (config-fields.ts): unknown keys, types, formats,
 *     vendor patterns, maximum lengths, required fields.
 * Issues carry field paths (`config.site`, `config.x.y`).
 */
import { validateEntryConfig } from "../connectors/catalog/config-fields";
import { getCatalogEntry } from "../connectors/catalog";
import { ConnectionIntentSchema, MAX_CONFIG_DEPTH, issuesOf, scanJson, type ConnectionIntent } from "./schemas";

export type AdmissionIssue = { path: string; message: string };
export type ParsedIntent = { ok: true; intent: ConnectionIntent } | { ok: false; issues: AdmissionIssue[] };

/** Fields other than config are flat: a string, a list of strings, or an object of scalars. */
const MAX_FIELD_DEPTH = 2;

const joinPath = (p: (string | number)[]) => p.map(String).join(".") || "(body)";

/** Depth limits, without recursion. */
export function shapeIssues(raw: unknown): AdmissionIssue[] {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return [];
  const out: AdmissionIssue[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const max = key === "config" ? MAX_CONFIG_DEPTH : MAX_FIELD_DEPTH;
    for (const i of scanJson(value, { maxDepth: max, prefix: [key] })) out.push({ path: joinPath(i.path), message: i.message });
  }
  return out;
}

/** Parses one intent: shape limits, then the schema, then the source type's typed config. */
export function parseConnectionIntent(raw: unknown): ParsedIntent {
  const shape = shapeIssues(raw);
  if (shape.length) return { ok: false, issues: shape };
  const parsed = ConnectionIntentSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error) };
  const entry = getCatalogEntry(parsed.data.source_type);
  // a type outside the catalog is stored as UNSUPPORTED (and counted); only the generic limits apply
  if (entry) {
    const issues = validateEntryConfig(entry, parsed.data.config ?? {});
    if (issues.length) return { ok: false, issues };
  }
  return { ok: true, intent: parsed.data };
}
