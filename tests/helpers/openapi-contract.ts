/**
 * A response validator built from the app's own OpenAPI document: every answer a REST test
 * receives goes through `check`, which fails when the status is not declared for the operation,
 * the body does not validate against the declared schema (JSON Schema 2020-12, ajv), or a
 * required header (Location, Retry-After, WWW-Authenticate) is missing or malformed.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { buildOpenApi } from "../../server/http/openapi";

type Doc = ReturnType<typeof buildOpenApi>;
type Method = "get" | "post";
type ResponseSpec = { description: string; headers?: Record<string, { required?: boolean; schema?: Record<string, unknown> }>; content?: Record<string, { schema: Record<string, unknown> }> };

const BASE = "https://aam.local/openapi.json";
// ajv-formats is CommonJS; under ESM interop its function may sit on .default
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

export type Contract = {
  doc: Doc;
  /** Problems with one answer of `method path` (path as templated in the document); [] when it conforms. */
  problems(method: Method, path: string, status: number, headers: Headers, body: unknown): string[];
  /** Reads the Response, checks it, throws with every problem, and returns the parsed body. */
  check(method: Method, path: string, res: Response): Promise<{ status: number; body: unknown; headers: Headers }>;
  /** status codes seen per operation (for the figures the fuzz prints) */
  seen: Map<string, Map<number, number>>;
};

export function createContract(doc: Doc = buildOpenApi()): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: BASE, components: doc.components }, BASE);
  const cache = new Map<string, ReturnType<Ajv2020["compile"]>>();
  const validatorFor = (key: string, schema: Record<string, unknown>) => {
    let v = cache.get(key);
    if (!v) {
      const s = typeof schema.$ref === "string" ? { $ref: `${BASE}${schema.$ref}` } : { $id: `${BASE}/inline/${cache.size}`, ...rewriteRefs(schema) };
      v = ajv.compile(s);
      cache.set(key, v);
    }
    return v;
  };
  const seen = new Map<string, Map<number, number>>();

  function problems(method: Method, path: string, status: number, headers: Headers, body: unknown): string[] {
    const op = (doc.paths as Record<string, Partial<Record<Method, { responses: Record<string, ResponseSpec> }>>>)[path]?.[method];
    if (!op) return [`${method.toUpperCase()} ${path} is not in the document`];
    const key = `${method.toUpperCase()} ${path}`;
    const bucket = seen.get(key) ?? new Map<number, number>();
    bucket.set(status, (bucket.get(status) ?? 0) + 1);
    seen.set(key, bucket);
    const spec = op.responses[String(status)];
    if (!spec) return [`${key} answered ${status}, which the document does not declare (declared: ${Object.keys(op.responses).join(", ")})`];
    const out: string[] = [];
    for (const [name, h] of Object.entries(spec.headers ?? {})) {
      const value = headers.get(name);
      if (value === null) {
        if (h.required) out.push(`${key} ${status}: header ${name} is required by the document but missing`);
        continue;
      }
      if (h.schema) {
        const v = validatorFor(`${key} ${status} header ${name}`, h.schema);
        if (!v(value)) out.push(`${key} ${status}: header ${name}=${JSON.stringify(value)} does not match ${JSON.stringify(h.schema)}`);
      }
    }
    const media = spec.content?.["application/json"];
    if (!media) {
      if (body !== undefined && body !== "") out.push(`${key} ${status}: the document declares no body, but one was sent`);
      return out;
    }
    const type = headers.get("content-type") ?? "";
    if (!/^application\/json\b/.test(type)) out.push(`${key} ${status}: content-type ${type || "(none)"} is not application/json`);
    const v = validatorFor(`${key} ${status}`, media.schema);
    if (!v(body)) {
      for (const e of v.errors ?? []) out.push(`${key} ${status}: body${e.instancePath || ""} ${e.message ?? "is invalid"}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`);
    }
    return out;
  }

  async function check(method: Method, path: string, res: Response) {
    const text = await res.text();
    let body: unknown = text;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    } else body = undefined;
    const p = problems(method, path, res.status, res.headers, body);
    if (p.length) throw new Error(`The answer does not conform to /api/openapi.json:\n  ${p.join("\n  ")}`);
    return { status: res.status, body, headers: res.headers };
  }

  return { doc, problems, check, seen };
}

/** Inline schemas refer to components as `#/components/…`: point them at the registered document. */
function rewriteRefs(schema: unknown): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === "$ref" && typeof x === "string" && x.startsWith("#/") ? `${BASE}${x}` : walk(x)]));
    }
    return v;
  };
  return walk(schema) as Record<string, unknown>;
}
