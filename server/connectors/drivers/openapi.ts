/**
 * OpenAPI driver: any HTTP API described by an OpenAPI 3.x or Swagger 2.0 document, given inline
 * (`config.spec`, JSON or YAML) or by URL (`config.spec_url`, fetched through Safe Mode's HTTP path).
 * Only safe operations are used: GET, no path template, no required parameter. Discovery reads the
 * 200 response schemas (records = the array, or the array property of a page object) and falls back
 * to inferring names/types from a first page when a response has no schema. The sample reads at most
 * the policy's record budget across operations.
 */
import { parse as parseYaml } from "yaml";
import { err, ok } from "../../lib/result";
import { type SafeHttp, defaultSafeHttp, redact } from "../safe-mode/http";
import { sandboxNotRunning } from "../sandbox/refs";
import type { ConnectorContext, ConnectorResult, FieldInfo, SampleRecord, SourceAdapter, StreamInfo } from "../types";
import { failWith, getPath, inferFields, recordBudget } from "./rest";

const MAX_OPERATIONS = 8;
const LIMIT_PARAMS = ["limit", "per_page", "page_size", "pageSize", "max_results", "maxResults", "$top", "top", "size", "count"];
const RECORD_KEYS = ["data", "items", "results", "records", "values", "entries", "value"];
const MAX_SPEC_DEPTH = 12;

type Json = Record<string, unknown>;
type Operation = {
  name: string;
  path: string;
  limitParam?: string;
  limitMax?: number;
  /** where the records are, when the schema says so ([] = the body is the array) */
  selector?: string[];
  fields?: FieldInfo[];
};
type Plan = { base: string; headers: Record<string, string>; allowedHosts: string[]; operations: Operation[] };

const isObj = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);

export function parseSpec(text: string): ConnectorResult<Json> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    try {
      doc = parseYaml(text, { maxAliasCount: 50 });
    } catch {
      return err({ kind: "other", message: "the OpenAPI document is neither JSON nor YAML" });
    }
  }
  if (!isObj(doc) || (typeof doc.openapi !== "string" && typeof doc.swagger !== "string") || !isObj(doc.paths)) {
    return err({ kind: "unsupported", message: "not an OpenAPI 3 / Swagger 2 document (openapi/swagger and paths are required)" });
  }
  return ok(doc);
}

/** Follows local `#/…` references only; remote refs are never fetched. */
function deref(doc: Json, v: unknown, depth = 0): unknown {
  if (depth > MAX_SPEC_DEPTH || !isObj(v) || typeof v.$ref !== "string") return v;
  if (!v.$ref.startsWith("#/")) return undefined;
  const path = v.$ref
    .slice(2)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  return deref(doc, getPath(doc, path), depth + 1);
}

function schemaType(s: Json): string {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
  if (t === "string" && s.format === "date-time") return "datetime";
  if (t === "string" && s.format === "date") return "date";
  return typeof t === "string" ? t : isObj(s.properties) ? "object" : "string";
}

function fieldsOf(doc: Json, schema: unknown): FieldInfo[] | undefined {
  const s = deref(doc, schema);
  if (!isObj(s)) return undefined;
  const all = Array.isArray(s.allOf) ? s.allOf.map((x) => deref(doc, x)).filter(isObj) : [s];
  const props: Record<string, unknown> = {};
  const required = new Set<string>();
  for (const part of all) {
    if (isObj(part.properties)) Object.assign(props, part.properties);
    if (Array.isArray(part.required)) for (const r of part.required) if (typeof r === "string") required.add(r);
  }
  if (Object.keys(props).length === 0) return undefined;
  return Object.entries(props).map(([name, p]) => {
    const ps = deref(doc, p);
    const nullable = isObj(ps) && (ps.nullable === true || (Array.isArray(ps.type) && ps.type.includes("null")));
    return { name, type: isObj(ps) ? schemaType(ps) : "string", ...(nullable || !required.has(name) ? { nullable: true } : {}) };
  });
}

/** The records inside a 200 response schema: the array itself, or the array property of a page object. */
function recordsSchema(doc: Json, schema: unknown): { selector: string[]; fields?: FieldInfo[] } | undefined {
  const s = deref(doc, schema);
  if (!isObj(s)) return undefined;
  if (s.type === "array") return { selector: [], fields: fieldsOf(doc, s.items) };
  const props = isObj(s.properties) ? s.properties : {};
  const arrays = Object.entries(props).filter(([, p]) => {
    const d = deref(doc, p);
    return isObj(d) && d.type === "array";
  });
  const pick = arrays.find(([k]) => RECORD_KEYS.includes(k)) ?? arrays[0];
  if (pick) return { selector: [pick[0]], fields: fieldsOf(doc, (deref(doc, pick[1]) as Json).items) };
  const single = fieldsOf(doc, s);
  return single ? { selector: [], fields: single } : undefined;
}

function baseUrlOf(doc: Json, specUrl: string | undefined): string | undefined {
  const servers = Array.isArray(doc.servers) ? doc.servers.filter(isObj) : [];
  if (servers.length && typeof servers[0]!.url === "string") {
    let u = servers[0]!.url as string;
    const vars = isObj(servers[0]!.variables) ? servers[0]!.variables : {};
    u = u.replace(/\{([^}]+)\}/g, (_m, k: string) => {
      const v = vars[k];
      return isObj(v) && typeof v.default === "string" ? v.default : "";
    });
    try {
      return new URL(u, specUrl).toString();
    } catch {
      return undefined;
    }
  }
  if (typeof doc.host === "string") {
    const scheme = Array.isArray(doc.schemes) && doc.schemes.includes("https") ? "https" : Array.isArray(doc.schemes) && typeof doc.schemes[0] === "string" ? doc.schemes[0] : "https";
    return `${scheme}://${doc.host}${typeof doc.basePath === "string" ? doc.basePath : ""}`;
  }
  return specUrl ? new URL("/", specUrl).toString() : undefined;
}

/** Safe operations: GET, no `{param}` in the path, no required parameter of any kind. */
export function safeOperations(doc: Json): Operation[] {
  const ops: Operation[] = [];
  for (const [path, rawItem] of Object.entries(doc.paths as Json)) {
    const item = deref(doc, rawItem);
    if (!isObj(item) || path.includes("{")) continue;
    const op = item.get;
    if (!isObj(op)) continue;
    const params = [...(Array.isArray(item.parameters) ? item.parameters : []), ...(Array.isArray(op.parameters) ? op.parameters : [])]
      .map((p) => deref(doc, p))
      .filter(isObj);
    if (params.some((p) => p.required === true)) continue;
    const limit = params.find((p) => p.in === "query" && typeof p.name === "string" && LIMIT_PARAMS.includes(p.name));
    const limitSchema = limit ? (isObj(limit.schema) ? limit.schema : limit) : undefined;
    const responses = isObj(op.responses) ? op.responses : {};
    const okResp = deref(doc, responses["200"] ?? responses["2XX"] ?? responses.default);
    let schema: unknown;
    if (isObj(okResp)) {
      const content = isObj(okResp.content) ? okResp.content : undefined;
      const json = content ? Object.entries(content).find(([t]) => /json/i.test(t))?.[1] : undefined;
      schema = isObj(json) ? json.schema : okResp.schema;
    }
    const rec = schema === undefined ? undefined : recordsSchema(doc, schema);
    const name = (typeof op.operationId === "string" && /^[A-Za-z0-9_.-]+$/.test(op.operationId) ? op.operationId : path.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "")) || "root";
    ops.push({
      name,
      path,
      limitParam: typeof limit?.name === "string" ? limit.name : undefined,
      limitMax: limitSchema && typeof limitSchema.maximum === "number" ? limitSchema.maximum : undefined,
      selector: rec?.selector,
      fields: rec?.fields,
    });
    if (ops.length >= MAX_OPERATIONS) break;
  }
  return ops;
}

function extractRecords(body: unknown, selector: string[] | undefined): Record<string, unknown>[] {
  let raw: unknown = selector ? getPath(body, selector) : body;
  if (!selector && isObj(body)) {
    const key = RECORD_KEYS.find((k) => Array.isArray(body[k])) ?? Object.keys(body).find((k) => Array.isArray(body[k]));
    raw = key ? body[key] : [body];
  }
  if (isObj(raw)) raw = [raw];
  if (!Array.isArray(raw)) return [];
  return raw.map((x) => (isObj(x) ? x : { value: x }));
}

export function createOpenApiDriver(http: SafeHttp = defaultSafeHttp): SourceAdapter {
  async function plan(ctx: ConnectorContext): Promise<ConnectorResult<Plan>> {
    // Where this driver connects comes from the intent (spec_url, base_url, the document's servers):
    // nothing here approves a host. Every request, the spec fetch included, passes the destination
    // grant (tenant-approved destinations or running sandboxes), so an unapproved host ends
    // not_approved before a byte is sent.
    for (const field of ["spec_url", "base_url"]) {
      const unexpanded = sandboxNotRunning(field, ctx.config[field]);
      if (unexpanded) return err(unexpanded);
    }
    const specUrl = typeof ctx.config.spec_url === "string" ? ctx.config.spec_url : undefined;
    let text: string;
    if (typeof ctx.config.spec === "string") text = ctx.config.spec;
    else if (isObj(ctx.config.spec)) text = JSON.stringify(ctx.config.spec);
    else if (specUrl) {
      const res = await http.fetch(ctx, { method: "GET", url: specUrl, headers: { Accept: "application/json, application/yaml;q=0.9, */*;q=0.5" } });
      if (!res.ok) return failWith(ctx, { ...res.error, message: `fetching the OpenAPI document: ${res.error.message}` });
      text = res.value.text();
    } else return err({ kind: "other", message: "config.spec_url or config.spec is required" });
    const doc = parseSpec(text);
    if (!doc.ok) return doc;
    const base = typeof ctx.config.base_url === "string" ? ctx.config.base_url : baseUrlOf(doc.value, specUrl);
    if (!base) return err({ kind: "other", message: "no base URL: the document has no servers and config.base_url is unset" });
    let baseUrl: URL;
    try {
      baseUrl = new URL(base);
    } catch {
      return err({ kind: "other", message: "the API base URL is not a URL" });
    }
    if (baseUrl.protocol !== "https:" && baseUrl.protocol !== "http:") return err({ kind: "egress_refused", message: `the API base URL must be http(s), not ${baseUrl.protocol}` });
    if (baseUrl.username || baseUrl.password) return err({ kind: "safe_mode", message: "credentials in URLs are refused in Safe Mode" });
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = ctx.secret.token ?? ctx.secret.access_token;
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (ctx.secret.api_key) {
      const schemes = isObj(doc.value.components) && isObj(doc.value.components.securitySchemes) ? doc.value.components.securitySchemes : isObj(doc.value.securityDefinitions) ? doc.value.securityDefinitions : {};
      const apiKey = Object.values(schemes).find((s) => isObj(s) && s.type === "apiKey" && s.in === "header") as Json | undefined;
      const name = typeof ctx.config.api_key_header === "string" ? ctx.config.api_key_header : typeof apiKey?.name === "string" ? apiKey.name : "X-API-Key";
      headers[name] = ctx.secret.api_key;
    }
    const operations = safeOperations(doc.value);
    if (operations.length === 0) return err({ kind: "unsupported", message: "the document has no GET operation without required parameters" });
    return ok({ base: baseUrl.toString().replace(/\/+$/, ""), headers, allowedHosts: [baseUrl.host], operations });
  }

  async function read(ctx: ConnectorContext, p: Plan, op: Operation, max: number): Promise<ConnectorResult<Record<string, unknown>[]>> {
    const url = new URL(p.base + op.path);
    if (op.limitParam) url.searchParams.set(op.limitParam, String(Math.max(1, Math.min(max, op.limitMax ?? max))));
    const res = await http.fetch(ctx, { method: "GET", url: url.toString(), headers: p.headers, allowedHosts: p.allowedHosts });
    if (!res.ok) return failWith(ctx, res.error);
    let body: unknown;
    try {
      body = res.value.json();
    } catch {
      return err({ kind: "other", message: `${op.path} did not answer JSON` });
    }
    return ok(extractRecords(body, op.selector).slice(0, max));
  }

  return {
    async healthCheck(ctx) {
      const t0 = performance.now();
      const p = await plan(ctx);
      if (!p.ok) return p;
      const first = await read(ctx, p.value, p.value.operations[0]!, 1);
      if (!first.ok) return first;
      return ok({ latencyMs: Math.round(performance.now() - t0), detail: `${p.value.operations.length} safe operations` });
    },

    async discover(ctx) {
      const p = await plan(ctx);
      if (!p.ok) return p;
      const streams: StreamInfo[] = [];
      for (const op of p.value.operations) {
        if (op.fields?.length) {
          streams.push({ name: op.name, fields: op.fields });
          continue;
        }
        const recs = await read(ctx, p.value, op, 5);
        if (!recs.ok) {
          if (recs.error.kind === "other") continue;
          return recs;
        }
        streams.push({ name: op.name, fields: inferFields(recs.value) });
      }
      return ok({ streams });
    },

    async sample(ctx, schema) {
      const p = await plan(ctx);
      if (!p.ok) return p;
      const wanted = new Set(schema.streams.map((s) => s.name));
      const ops = p.value.operations.filter((o) => wanted.has(o.name));
      const out: SampleRecord[] = [];
      for (const [i, op] of ops.entries()) {
        const budget = recordBudget(ctx) - out.length;
        if (budget <= 0) break;
        const share = Math.ceil(budget / (ops.length - i));
        const recs = await read(ctx, p.value, op, share);
        if (!recs.ok) return recs;
        for (const d of recs.value) out.push({ stream: op.name, data: d });
      }
      return ok(out.slice(0, recordBudget(ctx)));
    },
  };
}

export const openApiDriver = createOpenApiDriver();
