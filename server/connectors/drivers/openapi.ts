/**
 * OpenAPI driver: any HTTP API described by an OpenAPI 3.x or Swagger 2.0 document, given inline
 * (`config.spec`, JSON or YAML) or by URL (`config.spec_url`, fetched through Safe Mode's HTTP path).
 * Only safe operations are used: GET, no path template, no required parameter. Discovery reads the
 * 200 response schemas (records = the array, or the array property of a page object) and falls back
 * to inferring names/types from a first page when a response has no schema. The sample reads at most
 * the policy's record budget across operations.
 *
 * Identity (issue 10 item 7): health reads the first safe operation and its answer must have the
 * shape the document declares for it (the records array, or the page object holding it): a host
 * answering 200 `{}` or `[]` where the document says otherwise is not the API it describes.
 * Named resources: each intent resource id names an operation (operationId) or a path of the
 * document. It must be a safe operation the far side answers: one the document lacks, or declares
 * only unsafely (a write, a path or required parameter), or the server answers 404 for, is absent;
 * one it answers 401/403 for is not visible to the credential.
 */
import { parse as parseYaml } from "yaml";
import { err, ok } from "../../lib/result";
import { checkApiBase } from "../safe-mode/destinations";
import { type SafeHttp, defaultSafeHttp, redact } from "../safe-mode/http";
import { sandboxNotRunning } from "../sandbox/refs";
import type { ConnectorContext, ConnectorResult, DiscoveredSchema, FieldInfo, HealthInfo, NamedResourceCheck, SampleRecord, SourceAdapter, StreamInfo } from "../types";
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
  /** what the 200 answer is, where the document says: the records array itself, or an object (a page, or one record) */
  shape?: "array" | "object";
  fields?: FieldInfo[];
};
/** every operation the document declares, safe or not, by operationId (or derived name) and path */
type Declared = { name: string; path: string; method: string };
type Plan = { base: string; headers: Record<string, string>; allowedHosts: string[]; operations: Operation[]; declared: Declared[] };

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
function recordsSchema(doc: Json, schema: unknown): { selector: string[]; shape: "array" | "object"; fields?: FieldInfo[] } | undefined {
  const s = deref(doc, schema);
  if (!isObj(s)) return undefined;
  if (s.type === "array") return { selector: [], shape: "array", fields: fieldsOf(doc, s.items) };
  const props = isObj(s.properties) ? s.properties : {};
  const arrays = Object.entries(props).filter(([, p]) => {
    const d = deref(doc, p);
    return isObj(d) && d.type === "array";
  });
  const pick = arrays.find(([k]) => RECORD_KEYS.includes(k)) ?? arrays[0];
  if (pick) return { selector: [pick[0]], shape: "object", fields: fieldsOf(doc, (deref(doc, pick[1]) as Json).items) };
  const single = fieldsOf(doc, s);
  return single ? { selector: [], shape: "object", fields: single } : undefined;
}

const originOf = (u: string): string | undefined => {
  try {
    return new URL(u).origin.toLowerCase();
  } catch {
    return undefined;
  }
};

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

const opName = (op: Json, path: string) => (typeof op.operationId === "string" && /^[A-Za-z0-9_.-]+$/.test(op.operationId) ? op.operationId : path.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "")) || "root";

/** Every operation the document declares (any method), for telling "not in the document" from "declared, but not safe". */
export function declaredOperations(doc: Json): Declared[] {
  const out: Declared[] = [];
  for (const [path, rawItem] of Object.entries(doc.paths as Json)) {
    const item = deref(doc, rawItem);
    if (!isObj(item)) continue;
    for (const method of ["get", "put", "post", "delete", "options", "head", "patch", "trace"]) {
      const op = item[method];
      if (isObj(op)) out.push({ name: opName(op, path), path, method: method.toUpperCase() });
    }
  }
  return out;
}

/**
 * Safe operations: GET, no `{param}` in the path, no required parameter of any kind. At most
 * MAX_OPERATIONS, the ones `named` (operationId or path) first and all of them kept.
 */
export function safeOperations(doc: Json, named: readonly string[] = []): Operation[] {
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
    const name = opName(op, path);
    ops.push({
      name,
      path,
      limitParam: typeof limit?.name === "string" ? limit.name : undefined,
      limitMax: limitSchema && typeof limitSchema.maximum === "number" ? limitSchema.maximum : undefined,
      selector: rec?.selector,
      shape: rec?.shape,
      fields: rec?.fields,
    });
  }
  const wanted = new Set(named);
  const isNamed = (o: Operation) => wanted.has(o.name) || wanted.has(o.path);
  const first = ops.filter(isNamed);
  return [...first, ...ops.filter((o) => !isNamed(o))].slice(0, Math.max(MAX_OPERATIONS, first.length));
}

/** What is wrong with an answer, against the shape the document declares for it (undefined: as declared, or nothing declared). */
export function unmetShape(body: unknown, op: Operation): string | undefined {
  if (!op.shape) return undefined;
  const kind = (v: unknown) => (Array.isArray(v) ? "an array" : v === null ? "null" : typeof v === "object" ? "an object" : typeof v);
  if (op.shape === "array") return Array.isArray(body) ? undefined : `the body is ${kind(body)}, not the array the document declares`;
  if (!isObj(body)) return `the body is ${kind(body)}, not the object the document declares`;
  if (op.selector?.length) {
    const v = getPath(body, op.selector);
    if (!Array.isArray(v)) return `${op.selector.join(".")} is ${v === undefined ? "missing" : kind(v)}, not the records array the document declares`;
  } else if (op.fields?.length && !op.fields.some((f) => f.name in body)) return `none of the declared fields (${op.fields.map((f) => f.name).slice(0, 5).join(", ")}) is present`;
  return undefined;
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
    // where the secret goes must follow from the connection's config (it is what the secret is bound
    // to, server/onboarding/secret-binding.ts): a fetched document whose servers name another origin
    // than the one it came from would move the secret when the document changes — name it in base_url
    if (typeof ctx.config.base_url !== "string" && specUrl && originOf(base) !== originOf(specUrl)) {
      return err({ kind: "safe_mode", message: `the document's servers name another origin (${originOf(base) ?? "none"}) than the one it was fetched from: set config.base_url to the API's base, so that where this connection's secret goes is part of its configuration` });
    }
    // the openapi connector has no vendor hosts: every host is one the tenant approved
    const checkedBase = checkApiBase(ctx.destinations, base, { label: "the API base URL", vendor: "OpenAPI", catalogPath: undefined });
    if (!checkedBase.ok) return checkedBase;
    const baseUrl = checkedBase.value;
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = ctx.secret.token ?? ctx.secret.access_token;
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (ctx.secret.api_key) {
      const schemes = isObj(doc.value.components) && isObj(doc.value.components.securitySchemes) ? doc.value.components.securitySchemes : isObj(doc.value.securityDefinitions) ? doc.value.securityDefinitions : {};
      const apiKey = Object.values(schemes).find((s) => isObj(s) && s.type === "apiKey" && s.in === "header") as Json | undefined;
      const name = typeof ctx.config.api_key_header === "string" ? ctx.config.api_key_header : typeof apiKey?.name === "string" ? apiKey.name : "X-API-Key";
      headers[name] = ctx.secret.api_key;
    }
    const operations = safeOperations(doc.value, ctx.resourceIds);
    if (operations.length === 0) return err({ kind: "unsupported", message: "the document has no GET operation without required parameters" });
    return ok({ base: baseUrl.toString().replace(/\/+$/, ""), headers, allowedHosts: [baseUrl.host], operations, declared: declaredOperations(doc.value) });
  }

  async function readBody(ctx: ConnectorContext, p: Plan, op: Operation, max: number): Promise<ConnectorResult<unknown>> {
    const url = new URL(p.base + op.path);
    if (op.limitParam) url.searchParams.set(op.limitParam, String(Math.max(1, Math.min(max, op.limitMax ?? max))));
    const res = await http.fetch(ctx, { method: "GET", url: url.toString(), headers: p.headers, allowedHosts: p.allowedHosts });
    if (!res.ok) return failWith(ctx, res.error);
    try {
      return ok(res.value.json());
    } catch {
      return err({ kind: "other", message: `${op.path} did not answer JSON` });
    }
  }

  async function read(ctx: ConnectorContext, p: Plan, op: Operation, max: number): Promise<ConnectorResult<Record<string, unknown>[]>> {
    const body = await readBody(ctx, p, op, max);
    if (!body.ok) return body;
    return ok(extractRecords(body.value, op.selector).slice(0, max));
  }

  /** Each named operation or path: declared safely, and answered by the far side (one record at most, kept nowhere). */
  async function checkNamed(ctx: ConnectorContext, p: Plan, answered: ReadonlyMap<string, ConnectorResult<unknown>>): Promise<ConnectorResult<NamedResourceCheck[]>> {
    const out: NamedResourceCheck[] = [];
    for (const id of ctx.resourceIds) {
      const kind = id.startsWith("/") ? "path" : "operation";
      const op = p.operations.find((o) => o.name === id || o.path === id);
      if (!op) {
        const declared = p.declared.filter((d) => d.name === id || d.path === id);
        out.push({
          id,
          kind,
          found: false,
          reason: "absent",
          detail: declared.length
            ? `the document declares it only as ${declared.map((d) => `${d.method} ${d.path}`).join(", ")}, which Safe Mode does not call (a write, or a path or required parameter)`
            : "the OpenAPI document has no such operation or path",
        });
        continue;
      }
      const res = answered.get(op.name) ?? (await readBody(ctx, p, op, 1));
      if (res.ok) {
        const unmet = unmetShape(res.value, op);
        out.push(unmet ? { id, kind, found: false, reason: "absent", detail: `GET ${op.path} did not answer as the document declares (${unmet})` } : { id, kind, found: true });
      } else if (res.error.kind === "auth") out.push({ id, kind, found: false, reason: "not_visible", detail: `the credential may not call GET ${op.path} (${res.error.message})` });
      else if (/HTTP (404|410)\b/.test(res.error.message)) out.push({ id, kind, found: false, reason: "absent", detail: `the server has no GET ${op.path} (HTTP 404)` });
      else return res;
    }
    return ok(out);
  }

  async function health(ctx: ConnectorContext, p: Plan, t0: number): Promise<ConnectorResult<HealthInfo>> {
    const op = p.operations[0]!;
    const first = await readBody(ctx, p, op, 1);
    if (!first.ok) return first;
    const unmet = unmetShape(first.value, op);
    if (unmet) return err({ kind: "other", message: `the far side did not answer GET ${op.path} as the OpenAPI document declares (${unmet}): not the API it describes` });
    return ok({ latencyMs: Math.round(performance.now() - t0), detail: `${p.operations.length} safe operations` });
  }

  async function discoverWith(ctx: ConnectorContext, p: Plan): Promise<ConnectorResult<DiscoveredSchema>> {
    const streams: StreamInfo[] = [];
    const named = new Set(ctx.resourceIds);
    const answered = new Map<string, ConnectorResult<unknown>>();
    for (const op of p.operations) {
      const isNamed = named.has(op.name) || named.has(op.path);
      if (op.fields?.length && !isNamed) {
        streams.push({ name: op.name, fields: op.fields });
        continue;
      }
      const body = await readBody(ctx, p, op, 5);
      answered.set(op.name, body);
      if (!body.ok) {
        // a named operation's failure is the named-resource check's finding (in words); another's is skipped or fatal
        if (body.error.kind === "other" || (isNamed && body.error.kind === "auth")) continue;
        return body;
      }
      if (isNamed && unmetShape(body.value, op)) continue;
      streams.push({ name: op.name, fields: op.fields?.length ? op.fields : inferFields(extractRecords(body.value, op.selector).slice(0, 5)) });
    }
    const resources = await checkNamed(ctx, p, answered);
    if (!resources.ok) return resources;
    return ok({ streams, ...(resources.value.length ? { resources: resources.value } : {}) });
  }

  async function sampleWith(ctx: ConnectorContext, p: Plan, schema: DiscoveredSchema): Promise<ConnectorResult<SampleRecord[]>> {
    const wanted = new Set(schema.streams.map((s) => s.name));
    const ops = p.operations.filter((o) => wanted.has(o.name));
    const out: SampleRecord[] = [];
    for (const [i, op] of ops.entries()) {
      const budget = recordBudget(ctx) - out.length;
      if (budget <= 0) break;
      const share = Math.ceil(budget / (ops.length - i));
      const recs = await read(ctx, p, op, share);
      if (!recs.ok) return recs;
      for (const d of recs.value) out.push({ stream: op.name, data: d });
    }
    return ok(out.slice(0, recordBudget(ctx)));
  }

  return {
    async healthCheck(ctx) {
      const t0 = performance.now();
      const p = await plan(ctx);
      if (!p.ok) return p;
      return health(ctx, p.value, t0);
    },

    async discover(ctx) {
      const p = await plan(ctx);
      if (!p.ok) return p;
      return discoverWith(ctx, p.value);
    },

    async sample(ctx, schema) {
      const p = await plan(ctx);
      if (!p.ok) return p;
      return sampleWith(ctx, p.value, schema);
    },

    /**
     * One attempt's session: the document fetched and planned once (the standalone calls each
     * fetch it), then the same health, discovery and sample requests. Opening is the health
     * check's first step, as it is standalone.
     */
    async openAttempt(ctx) {
      let t0: number | undefined = performance.now(); // the first health check's latency includes the document
      const p = await plan(ctx);
      if (!p.ok) return p;
      let discovered: DiscoveredSchema | undefined;
      let closed = false;
      const ended = (): ConnectorResult<never> => err({ kind: "network", message: "the attempt's session with the source was closed" });
      const discover = async (): Promise<ConnectorResult<DiscoveredSchema>> => {
        if (closed) return ended();
        const d = await discoverWith(ctx, p.value);
        if (d.ok) discovered = d.value;
        return d;
      };
      return ok({
        async healthCheck() {
          if (closed) return ended();
          const from = t0 ?? performance.now();
          t0 = undefined;
          return health(ctx, p.value, from);
        },
        discover,
        async sample(schema) {
          if (closed) return ended();
          if (schema.streams.length === 0) {
            const d = discovered ? ok(discovered) : await discover();
            if (!d.ok) return d;
            schema = d.value;
          }
          return sampleWith(ctx, p.value, schema);
        },
        async close() {
          closed = true;
        },
      });
    },
  };
}

export const openApiDriver = createOpenApiDriver();
