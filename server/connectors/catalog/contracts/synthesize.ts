/**
 * A small, deterministic JSON Schema instance generator for the description-driven stand-ins
 * (sandbox/spec-standin.ts): from an operation's response schema in a vendor contract it builds a
 * minimal valid answer — required members, the members asked for (`include`: the records, the
 * pagination and identifying fields a catalog entry reads), and a few optional scalars near the top
 * so that records carry field names. Strings with a `pattern` or a `format` come from
 * json-schema-faker (seeded); the structure is chosen here so that `anyOf`/`oneOf` alternatives are
 * tried in order and kept only when Ajv accepts them. What is left invalid is pruned where it is an
 * optional member; what cannot be repaired is returned as is and refused by the caller's check.
 */
import { generateSync } from "json-schema-faker";
import { type Contract, type JsonSchema, validatorFor } from "./index";

export type SynthOptions = {
  /**
   * members that must be present (a path, one key per element; [] = the body), of the JSON type
   * given where the caller reads one; an array at one of them gets `records` items
   */
  include?: readonly Include[];
  /** items of an included array (default 2) */
  records?: number;
  seed?: number;
};

export type Include = { path: readonly string[]; type?: "string" | "number" | "integer" | "boolean" | "object" | "array" };
type Ctx = { c: Contract; include: readonly Include[]; records: number; seed: number; optional: Set<string> };

const TYPE_ORDER = ["object", "array", "string", "integer", "number", "boolean", "null"] as const;
const MAX_DEPTH = 14;
/** optional scalar members added to an object this shallow (records sit at depth 1–2) */
const OPTIONAL_DEPTH = 3;
const OPTIONAL_MAX = 8;

const isObj = (s: unknown): s is JsonSchema => !!s && typeof s === "object" && !Array.isArray(s);
const pointer = (at: readonly string[]) => at.map((k) => "/" + k.replace(/~/g, "~0").replace(/\//g, "~1")).join("");

function resolveRef(c: Contract, s: JsonSchema): JsonSchema | undefined {
  let cur: JsonSchema | undefined = s;
  for (let i = 0; cur && typeof cur.$ref === "string" && i < 20; i++) {
    const def: unknown = c.$defs[cur.$ref.replace(/^#\/\$defs\//, "")];
    cur = isObj(def) ? def : def === true ? {} : undefined;
  }
  return cur;
}

/** The schema with its `$ref`s followed and its `allOf` members flattened, each part as it stands in the contract. */
function partsOf(c: Contract, s: JsonSchema | boolean, depth = 0): JsonSchema[] {
  if (s === true) return [{}];
  if (!isObj(s) || depth > 30) return [];
  const r = resolveRef(c, s);
  if (!r) return [];
  const out = [r];
  for (const m of (r.allOf as JsonSchema[] | undefined) ?? []) out.push(...partsOf(c, m, depth + 1));
  return out;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Formats Ajv does not know, or knows only for numbers, as the descriptions use them on strings. */
const FORMATS: Record<string, (at: readonly string[]) => string> = {
  url: () => "https://example.com/standin",
  byte: () => "c3RhbmQtaW4=",
  base64url: () => "c3RhbmQtaW4",
  "google-datetime": () => "2026-01-15T10:00:00Z",
  datetime: () => "2026-01-15T10:00:00Z",
  int64: (at) => String(1 + recordIndex(at)),
  uint64: (at) => String(1 + recordIndex(at)),
  int32: (at) => String(1 + recordIndex(at)),
  uint32: (at) => String(1 + recordIndex(at)),
};

function typesOf(parts: JsonSchema[]): string[] | undefined {
  let allowed: Set<string> | undefined;
  for (const p of parts) {
    if (p.type === undefined) continue;
    const t = new Set(Array.isArray(p.type) ? (p.type as string[]) : [p.type as string]);
    if (t.has("number")) t.add("integer");
    allowed = allowed ? new Set([...allowed].filter((x) => t.has(x) || (x === "number" && t.has("integer")))) : t;
  }
  return allowed ? TYPE_ORDER.filter((t) => allowed!.has(t)) : undefined;
}

function recordIndex(at: readonly string[]): number {
  for (let i = at.length - 1; i >= 0; i--) if (/^\d+$/.test(at[i]!)) return Number(at[i]);
  return 0;
}

function lastKey(at: readonly string[]): string {
  for (let i = at.length - 1; i >= 0; i--) if (!/^\d+$/.test(at[i]!)) return at[i]!.replace(/[^A-Za-z0-9_]/g, "") || "value";
  return "value";
}

function num(parts: JsonSchema[], integer: boolean, at: readonly string[]): number {
  let min = -Infinity;
  let max = Infinity;
  for (const p of parts) {
    if (typeof p.minimum === "number") min = Math.max(min, p.minimum);
    if (typeof p.maximum === "number") max = Math.min(max, p.maximum);
    if (typeof p.exclusiveMinimum === "number") min = Math.max(min, p.exclusiveMinimum + (integer ? 1 : 0.5));
    if (typeof p.exclusiveMaximum === "number") max = Math.min(max, p.exclusiveMaximum - (integer ? 1 : 0.5));
  }
  let v = (Number.isFinite(min) ? min : 1) + recordIndex(at);
  if (v > max) v = Number.isFinite(min) ? min : max;
  return integer ? Math.ceil(v) : v;
}

function str(ctx: Ctx, parts: JsonSchema[], at: readonly string[]): string {
  const pattern = parts.find((p) => typeof p.pattern === "string")?.pattern as string | undefined;
  const format = parts.find((p) => typeof p.format === "string")?.format as string | undefined;
  const minLength = Math.max(0, ...parts.map((p) => (typeof p.minLength === "number" ? p.minLength : 0)));
  const maxLength = Math.min(Infinity, ...parts.map((p) => (typeof p.maxLength === "number" ? p.maxLength : Infinity)));
  if (format && FORMATS[format] && !pattern) return FORMATS[format]!(at);
  if (pattern || (format && !/^(int|uint|float|double|password|token|digest|timezone)/.test(format))) {
    const schema: Record<string, unknown> = { type: "string" };
    if (pattern) schema.pattern = pattern;
    else schema.format = format;
    if (minLength) schema.minLength = minLength;
    if (Number.isFinite(maxLength)) schema.maxLength = maxLength;
    const v = generateSync(schema as never, { seed: hash(`${ctx.seed}:${pointer(at)}`) });
    if (typeof v === "string") return v;
  }
  let v = `${lastKey(at)}-${recordIndex(at) + 1}`;
  while (v.length < minLength) v += "x";
  if (v.length > maxLength) v = v.slice(0, maxLength);
  return v;
}

/** Include paths that run through `at`: the next key of each, or "" (with the wanted type) where one ends here. */
function includedNext(ctx: Ctx, at: readonly string[]): Map<string, Include["type"]> {
  const out = new Map<string, Include["type"]>();
  const keys = at.filter((k) => !/^\d+$/.test(k)); // included paths name keys, never array indices
  for (const { path: p, type } of ctx.include) {
    if (p.length < keys.length || keys.some((k, i) => p[i] !== k)) continue;
    if (p.length > keys.length) out.set(p[keys.length]!, undefined);
    else if (!/^\d+$/.test(at[at.length - 1] ?? "")) out.set("", out.get("") ?? type); // an item of the included array is not the array
  }
  return out;
}

function isScalar(c: Contract, s: JsonSchema): boolean {
  const parts = partsOf(c, s);
  if (parts.some((p) => p.anyOf || p.oneOf || p.properties || p.items)) return false;
  const t = typesOf(parts);
  return !!t && t.some((x) => x === "string" || x === "integer" || x === "number" || x === "boolean");
}

function gen(ctx: Ctx, s: JsonSchema | boolean, at: readonly string[], depth: number): unknown {
  const { c } = ctx;
  const parts = partsOf(c, s);
  if (depth > MAX_DEPTH) return null;
  const next = includedNext(ctx, at);

  // a choice: the first alternative (non-null ones first) that its schema accepts
  const choice = parts.find((p) => Array.isArray(p.anyOf) || Array.isArray(p.oneOf));
  if (choice) {
    const alts = ((choice.anyOf ?? choice.oneOf) as JsonSchema[]).slice();
    const nullish = (a: JsonSchema) => typesOf(partsOf(c, a))?.every((t) => t === "null") ?? false;
    alts.sort((a, b) => Number(nullish(a)) - Number(nullish(b)));
    const { anyOf: _a, oneOf: _o, allOf: _l, ...own } = resolveRef(c, choice) ?? {};
    const rest = parts.filter((p) => p !== choice).map(({ allOf: _x, ...p }) => p);
    const v = validatorFor(c, choice);
    let first: unknown;
    for (const alt of alts) {
      const cand = gen(ctx, { allOf: [...rest, own, alt] }, at, depth);
      if (v(cand)) return cand;
      first ??= cand;
    }
    return first;
  }

  const withConst = parts.find((p) => Object.hasOwn(p, "const"));
  if (withConst) return withConst.const;
  const withEnum = parts.find((p) => Array.isArray(p.enum));
  if (withEnum) {
    const values = withEnum.enum as unknown[];
    return values.find((x) => x !== null) ?? values[0] ?? null;
  }

  let types = typesOf(parts);
  // no type and only `items`, which binds arrays alone (Slack's objs_conversation and objs_user are
  // written so, meaning "one of these shapes"): one of the shapes, which the schema accepts either way
  if (!typesOf(parts) && !next.get("") && parts.some((p) => isObj(p.items)) && !parts.some((p) => p.properties || p.additionalProperties)) {
    const shape = gen(ctx, { allOf: parts.flatMap((p) => (isObj(p.items) ? [p.items] : [])) }, at, depth + 1);
    if (shape && typeof shape === "object" && !Array.isArray(shape)) return shape;
  }
  const wanted = next.get("");
  const deeper = [...next.keys()].some((k) => k !== "");
  if (!types) {
    const keyed = parts.some((p) => p.properties || p.additionalProperties) || deeper;
    types = wanted ? [wanted] : keyed ? ["object"] : parts.some((p) => p.items) ? ["array"] : ["string"];
  }
  if (wanted && types.includes(wanted)) types = [wanted];
  else if (wanted === "number" && types.includes("integer")) types = ["integer"];
  else if (deeper && types.includes("object")) types = ["object"];
  const type = types.find((t) => t !== "null") ?? types[0];

  switch (type) {
    case "object": {
      const props = new Map<string, JsonSchema[]>();
      const required = new Set<string>();
      let additional: JsonSchema | false | undefined;
      for (const p of parts) {
        for (const [k, v] of Object.entries((p.properties as Record<string, JsonSchema>) ?? {})) props.set(k, [...(props.get(k) ?? []), v]);
        for (const k of (p.required as string[]) ?? []) required.add(k);
        if (p.additionalProperties === false) additional = false;
        else if (isObj(p.additionalProperties) && additional !== false) additional ??= p.additionalProperties;
      }
      const keys = [...required];
      for (const k of next.keys()) if (k !== "" && !keys.includes(k)) keys.push(k);
      if (depth <= OPTIONAL_DEPTH) {
        let added = 0;
        for (const [k, subs] of props) {
          if (added >= OPTIONAL_MAX) break;
          if (keys.includes(k) || !subs.every((x) => isScalar(c, x))) continue;
          keys.push(k);
          added++;
        }
      }
      const out: Record<string, unknown> = {};
      for (const k of keys) {
        const subs = props.get(k) ?? (additional ? [additional] : additional === false ? undefined : [{}]);
        if (!subs) continue;
        const path = [...at, k];
        if (!required.has(k) && !next.has(k)) ctx.optional.add(pointer(path));
        const v = gen(ctx, subs.length === 1 ? subs[0]! : { allOf: subs }, path, depth + 1);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case "array": {
      const items = parts.flatMap((p) => (p.items === undefined ? [] : [p.items as JsonSchema]));
      const minItems = Math.max(0, ...parts.map((p) => (typeof p.minItems === "number" ? p.minItems : 0)));
      const maxItems = Math.min(Infinity, ...parts.map((p) => (typeof p.maxItems === "number" ? p.maxItems : Infinity)));
      let n = wanted === "array" ? ctx.records : depth < 4 ? 1 : 0;
      n = Math.min(Math.max(n, minItems), maxItems);
      const item: JsonSchema = items.length === 1 ? items[0]! : { allOf: items };
      return Array.from({ length: n }, (_, i) => gen(ctx, item, [...at, String(i)], depth + 1));
    }
    case "string":
      return str(ctx, parts, at);
    case "integer":
      return num(parts, true, at);
    case "number":
      return num(parts, false, at);
    case "boolean":
      return true;
    default:
      return null;
  }
}

function removeAt(value: unknown, ptr: string): boolean {
  const keys = ptr.split("/").slice(1).map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
  let cur = value as Record<string, unknown> | unknown[] | null;
  for (const k of keys.slice(0, -1)) {
    if (!cur || typeof cur !== "object") return false;
    cur = (cur as Record<string, unknown>)[k] as typeof cur;
  }
  const last = keys[keys.length - 1]!;
  if (!cur || typeof cur !== "object" || Array.isArray(cur) || !Object.hasOwn(cur, last)) return false;
  delete (cur as Record<string, unknown>)[last];
  return true;
}

/**
 * A minimal instance of `schema` (an operation's response schema in contract `c`), with `include`
 * present. Deterministic for the same inputs. Not guaranteed valid: the caller checks.
 */
export function synthesize(c: Contract, schema: JsonSchema, opts: SynthOptions = {}): unknown {
  const ctx: Ctx = { c, include: opts.include ?? [], records: opts.records ?? 2, seed: opts.seed ?? 1, optional: new Set() };
  const value = gen(ctx, schema, [], 0);
  // optional members that some other part of the schema rules out (an allOf sibling's
  // additionalProperties, say) are dropped, deepest complaint first
  const v = validatorFor(c, schema);
  for (let round = 0; round < 200 && !v(value); round++) {
    let removed = false;
    for (const e of v.errors ?? []) {
      const extra = e.params && "additionalProperty" in e.params ? `/${String(e.params.additionalProperty).replace(/~/g, "~0").replace(/\//g, "~1")}` : "";
      let ptr = e.instancePath + extra;
      while (ptr && !ctx.optional.has(ptr)) ptr = ptr.slice(0, ptr.lastIndexOf("/"));
      if (ptr && removeAt(value, ptr)) {
        removed = true;
        break;
      }
    }
    if (!removed) break;
  }
  return value;
}
