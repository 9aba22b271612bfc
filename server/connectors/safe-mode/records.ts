/**
 * The last Safe Mode gate every native driver's sample goes through: never more than
 * MAX_SAMPLE_RECORDS (whatever the policy says), values made JSON-safe, and the whole sample
 * held under the response byte cap.
 */
import { err, ok } from "../../lib/result";
import type { ConnectorResult, SafetyPolicy, SampleRecord } from "../types";
import { MAX_SAMPLE_RECORDS } from "./policy";

/** How many records a sample may hold: the policy's number, never above the hard ceiling. */
export function sampleBudget(policy: Pick<SafetyPolicy, "maxRecords">): number {
  const n = Number.isFinite(policy.maxRecords) ? Math.floor(policy.maxRecords) : 0;
  return Math.max(0, Math.min(n, MAX_SAMPLE_RECORDS));
}

const MAX_STRING = 4_096;

/** Dates → ISO, bigint → string, bytes → a short description, long strings truncated. */
export function toJsonSafe(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "boolean") return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (depth > 8) return "<nested too deep>";
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => toJsonSafe(v, depth + 1));
  if (typeof value === "object") {
    // BSON ObjectId, Decimal128 and friends render through toString/toHexString.
    const o = value as { _bsontype?: string; toHexString?: () => string; toString: () => string };
    if (o._bsontype) return typeof o.toHexString === "function" ? o.toHexString() : o.toString();
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 500)) out[k] = toJsonSafe(v, depth + 1);
    return out;
  }
  return String(value);
}

/** Clamps to the budget, normalizes values and enforces the byte cap on the serialized sample. */
export function finishSample(records: SampleRecord[], policy: SafetyPolicy): ConnectorResult<SampleRecord[]> {
  const out = records.slice(0, sampleBudget(policy)).map((r) => ({ stream: r.stream, data: toJsonSafe(r.data) as Record<string, unknown> }));
  const bytes = Buffer.byteLength(JSON.stringify(out));
  if (bytes > policy.maxResponseBytes) {
    return err({ kind: "too_large", message: `sample is ${bytes} bytes, above the ${policy.maxResponseBytes}-byte cap` });
  }
  return ok(out);
}
