/**
 * Vendor contracts: compact facts derived from the vendors' own API descriptions
 * (scripts/derive-vendor-contracts.ts, from ../shared/vendor-specs) and committed next to this
 * file, one `<source_type>.json` each. Used by the contract tests to check that a request the
 * driver sends is an operation the vendor describes (method, path template, declared and required
 * query parameters, JSON body), that the scopes an entry asks for cover what the operation needs,
 * and that a stand-in's answer validates against the vendor's response schema.
 */
import fs from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { type Contract, type ContractOperation, type JsonSchema, matchScore } from "./model";

export type { Contract, ContractOperation, ContractParam, JsonSchema } from "./model";
export { matchPath, matchScore } from "./model";

const DIR = new URL("./", import.meta.url);

/** The source types that have a committed contract. */
export function contractSourceTypes(): string[] {
  return fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.replace(/\.json$/, ""))
    .sort();
}

const cache = new Map<string, Contract>();
export function loadContract(sourceType: string): Contract {
  let c = cache.get(sourceType);
  if (!c) {
    c = JSON.parse(fs.readFileSync(new URL(`./${sourceType}.json`, DIR), "utf8")) as Contract;
    cache.set(sourceType, c);
  }
  return c;
}

/** A request as it left the driver, the path counted from the host root. */
export type WireRequest = { method: string; path: string; query: [string, string][]; headers: Record<string, string>; body?: unknown };

const header = (h: Record<string, string>, name: string) => Object.entries(h).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

/** The most specific operation of the contract that the request's method, path (and X-Amz-Target) match. */
export function findOperation(c: Contract, req: Pick<WireRequest, "method" | "path" | "headers">): ContractOperation | undefined {
  const target = header(req.headers, "x-amz-target");
  let best: { op: ContractOperation; score: number } | undefined;
  for (const op of c.operations) {
    if (op.method !== req.method.toUpperCase()) continue;
    if (op.target && op.target !== target) continue;
    const score = matchScore(op.path, req.path);
    if (score === undefined) continue;
    if (!best || score < best.score) best = { op, score };
  }
  return best?.op;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, logger: false });
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
addFormats(ajv);
const validators = new WeakMap<object, ValidateFunction>();

/** Ajv for one schema of a contract, with the contract's `$defs` alongside. */
export function validatorFor(c: Contract, schema: JsonSchema): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile({ ...schema, $defs: c.$defs });
    validators.set(schema, v);
  }
  return v;
}

const errorsOf = (v: ValidateFunction) =>
  (v.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`);

/**
 * What is wrong with a request against the contract (empty: it matches). `vendorQuery`: the query
 * came verbatim from a URL the vendor handed out (a next link), so only the path is the driver's.
 */
export function checkRequest(c: Contract, req: WireRequest, opts: { vendorQuery?: boolean } = {}): { op?: ContractOperation; problems: string[] } {
  const op = findOperation(c, req);
  if (!op) return { problems: [`${req.method} ${req.path}${header(req.headers, "x-amz-target") ? ` (${header(req.headers, "x-amz-target")})` : ""} is no operation of the description`] };
  const problems: string[] = [];
  if (!opts.vendorQuery) {
    const declared = new Set(op.params.filter((p) => p.in === "query").map((p) => p.name));
    const sent = new Map<string, number>();
    for (const [k] of req.query) sent.set(k, (sent.get(k) ?? 0) + 1);
    for (const k of sent.keys()) if (!declared.has(k)) problems.push(`${op.id}: query parameter ${k} is not declared`);
    for (const p of op.params) if (p.in === "query" && p.required && !sent.has(p.name)) problems.push(`${op.id}: required query parameter ${p.name} is missing`);
    for (const [k, v] of Object.entries(op.fixedQuery ?? {})) {
      const got = req.query.find(([q]) => q === k)?.[1];
      if (got === undefined || (v !== "" && got !== v)) problems.push(`${op.id}: the URI fixes ${k}=${v}`);
    }
  }
  if (op.body && req.body !== undefined) {
    const v = validatorFor(c, op.body);
    if (!v(req.body)) problems.push(`${op.id}: request body: ${errorsOf(v).join("; ")}`);
  }
  return { op, problems };
}

/** What is wrong with a response body against the operation's schema for its status (empty: it validates). */
export function checkResponse(c: Contract, op: ContractOperation, status: number, body: unknown): string[] {
  const key = Object.hasOwn(op.responses, String(status)) ? String(status) : Object.hasOwn(op.responses, "2XX") && status >= 200 && status < 300 ? "2XX" : undefined;
  if (!key) return [`${op.id}: status ${status} is not a described success response (${Object.keys(op.responses).join(", ") || "none"})`];
  const schema = op.responses[key];
  if (!schema) return [];
  const v = validatorFor(c, schema);
  return v(body) ? [] : [`${op.id} ${status}: ${errorsOf(v).join("; ")}`];
}

/** The operation's scope requirement, unmet by `scopes`: undefined when met or when the description states none. */
export function missingScopes(op: ContractOperation, scopes: readonly string[]): string | undefined {
  if (!op.scopes?.length) return undefined;
  const have = new Set(scopes);
  if (op.scopes.some((alt) => alt.every((s) => have.has(s)))) return undefined;
  return `${op.id} needs ${op.scopes.map((a) => a.join(" + ")).join(" or ")}`;
}

/** The sandbox vendors that stand in for a described API: their source type and the entry's base path the sandbox prefix replaces. */
const SANDBOX_CONTRACTS: Record<string, { sourceType: string; basePath: string; stripJson?: boolean }> = {
  slack: { sourceType: "slack", basePath: "/api" },
  github: { sourceType: "github", basePath: "" },
  jira: { sourceType: "jira", basePath: "" },
  zendesk: { sourceType: "zendesk", basePath: "/api/v2", stripJson: true },
};

export type SandboxAnswer = { vendor: string; method: string; path: string; status: number; body: unknown };

/**
 * For startHttpSandbox({ contractGuard }): what is wrong with a stand-in's success answer against
 * the vendor's description (empty: it may be sent). Vendors without a description pass.
 */
export function sandboxContractGuard(): (a: SandboxAnswer) => string[] {
  return (a) => {
    const s = SANDBOX_CONTRACTS[a.vendor];
    if (!s || a.status < 200 || a.status >= 300) return [];
    const c = loadContract(s.sourceType);
    let path = s.basePath + a.path;
    if (s.stripJson) path = path.replace(/\.json$/, "");
    const op = findOperation(c, { method: a.method, path, headers: {} });
    if (!op) return [`${a.method} ${path} is no operation of ${s.sourceType}'s description`];
    return checkResponse(c, op, a.status, a.body);
  };
}

/**
 * Does the response schema have a value at `path` (one key per element)? "open": the schema does
 * not say (no properties / any additional property), so the description cannot refute it. When
 * `type` is given, the value's schema must allow that JSON type.
 */
export function schemaHasPath(c: Contract, schema: JsonSchema | null, path: readonly string[], type?: string): "ok" | "missing" | "open" {
  if (!schema) return "open";
  const expand = (s: JsonSchema, depth = 0): JsonSchema[] => {
    if (depth > 20) return [];
    if (typeof s.$ref === "string") {
      const def = c.$defs[s.$ref.replace(/^#\/\$defs\//, "")];
      return def ? expand(def, depth + 1) : [];
    }
    const alts = [...((s.allOf as JsonSchema[]) ?? []), ...((s.anyOf as JsonSchema[]) ?? []), ...((s.oneOf as JsonSchema[]) ?? [])];
    return [s, ...alts.flatMap((a) => expand(a, depth + 1))];
  };
  let cur: JsonSchema[] = expand(schema);
  for (const key of path) {
    const next: JsonSchema[] = [];
    let open = false;
    for (const s of cur) {
      const props = s.properties as Record<string, JsonSchema> | undefined;
      if (props && Object.hasOwn(props, key)) next.push(...expand(props[key]!));
      else if (s.additionalProperties && typeof s.additionalProperties === "object") next.push(...expand(s.additionalProperties as JsonSchema));
    }
    if (next.length === 0) {
      open = cur.every((s) => !s.properties || s.additionalProperties === true) && cur.some((s) => s.additionalProperties !== false);
      return open ? "open" : "missing";
    }
    cur = next;
  }
  if (!type) return "ok";
  const allows = (s: JsonSchema) => s.type === undefined || s.type === type || (Array.isArray(s.type) && s.type.includes(type)) || (type === "integer" && (s.type === "number" || (Array.isArray(s.type) && s.type.includes("number"))));
  return cur.some(allows) ? "ok" : "missing";
}
