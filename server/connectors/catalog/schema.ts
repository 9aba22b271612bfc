/**
 * The shape of a connector as data (STYLE.md rule 6, after Nango's providers.yaml and Airbyte's
 * declarative manifests): auth modes with read-only scopes, a base URL with `{{config.x}}`
 * interpolation, a verification request, streams with typed paginator/extractor strategies, the
 * POST endpoints that are read queries, and which fields are secret. Code appears only as a named
 * driver, which the catalog test proves exists in the static registry.
 */
import { z } from "zod";

/** A path into a JSON document, one key per element (Airbyte's DpathExtractor field_path). [] = the root. */
export const ZJsonPath = z.array(z.string().min(1));

/** A string that may contain `{{config.x}}` placeholders (never secrets: secrets go in headers only). */
const ZTemplate = z.string().min(1);

export const ZFieldInfo = z.object({ name: z.string().min(1), type: z.string().min(1), nullable: z.boolean().optional() });

export const ZPagination = z.discriminatedUnion("type", [
  z.object({ type: z.literal("none") }),
  /** opaque cursor from the body; sent back as a query param (Slack) or body field, optionally to a continue endpoint (Dropbox) */
  z.object({
    type: z.literal("cursor"),
    cursorPath: ZJsonPath,
    cursorParam: z.string().min(1),
    limitParam: z.string().min(1).optional(),
    in: z.enum(["query", "body"]).default("query"),
    continuePath: z.string().min(1).optional(),
    hasMorePath: ZJsonPath.optional(),
  }),
  /** Google/Jira style nextPageToken → pageToken */
  z.object({
    type: z.literal("page_token"),
    tokenPath: ZJsonPath,
    tokenParam: z.string().min(1),
    limitParam: z.string().min(1).optional(),
  }),
  /** RFC 8288 Link: <…>; rel="next" (GitHub, Okta, GitLab, ServiceNow) */
  z.object({ type: z.literal("link_header"), limitParam: z.string().min(1).optional() }),
  /** offset/limit (Jira startAt/maxResults, PagerDuty offset/limit, ServiceNow sysparm_offset) */
  z.object({
    type: z.literal("offset"),
    offsetParam: z.string().min(1),
    limitParam: z.string().min(1),
    start: z.number().int().nonnegative().default(0),
    /** boolean "more pages" flag (PagerDuty more, NetSuite hasMore) */
    hasMorePath: ZJsonPath.optional(),
    /** boolean "this is the last page" flag (Jira isLast) */
    isLastPath: ZJsonPath.optional(),
    /** total record count (Jira total, Workday total) */
    totalPath: ZJsonPath.optional(),
  }),
  /** page number + page size (Datadog page[number]/page[size], Zendesk page/per_page) */
  z.object({
    type: z.literal("page_number"),
    pageParam: z.string().min(1),
    sizeParam: z.string().min(1),
    start: z.number().int().nonnegative().default(1),
  }),
  /** a full or relative next URL in the body (Graph @odata.nextLink, Zendesk next_page, Confluence _links.next) */
  z.object({ type: z.literal("next_url"), nextPath: ZJsonPath, limitParam: z.string().min(1).optional() }),
]);

export const ZRequest = z.object({
  path: ZTemplate,
  method: z.enum(["GET", "HEAD", "POST"]).default("GET"),
  query: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

export const ZStream = ZRequest.extend({
  name: z.string().min(1).regex(/^[a-z0-9_.-]+$/i),
  /** where the records are; [] = the body is the array */
  recordSelector: ZJsonPath,
  pagination: ZPagination,
  /** the vendor's largest page size for this endpoint */
  maxPageSize: z.number().int().positive().optional(),
  /** static fields; when absent discovery infers them from the first page's records (names and types only) */
  fields: z.array(ZFieldInfo).optional(),
  /** rows are arrays; zip them with the column names found here (Snowflake resultSetMetaData.rowType) */
  columnsPath: ZJsonPath.optional(),
});

export const ZReadOnlyPost = z.object({
  path: ZTemplate,
  kind: z.enum(["rpc", "graphql", "sql"]),
  /** for sql: the body field that holds the statement */
  field: z.string().min(1).optional(),
  /** RPC protocols that multiplex one path (AWS JSON 1.1 X-Amz-Target): these headers must match too */
  headers: z.record(z.string(), z.string()).optional(),
});

const ZHeaderAuth = z.object({
  name: z.string().min(1),
  secretField: z.string().min(1),
  prefix: z.string().default(""),
});

export const ZAuthMode = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("oauth2"),
    grant: z.enum(["authorization_code", "client_credentials", "account_credentials"]),
    authorizeUrl: ZTemplate.optional(),
    tokenUrl: ZTemplate,
    scopes: z.array(z.string().min(1)),
    scopeSeparator: z.string().default(" "),
    pkce: z.boolean().default(false),
    authorizeParams: z.record(z.string(), z.string()).optional(),
    /** how the access token is sent; default `Authorization: Bearer <access_token>` */
    header: ZHeaderAuth.optional(),
  }),
  z.object({
    type: z.literal("bearer"),
    secretField: z.string().min(1).default("token"),
    header: z.string().min(1).default("Authorization"),
    prefix: z.string().default("Bearer "),
  }),
  z.object({ type: z.literal("api_key"), headers: z.array(ZHeaderAuth).min(1) }),
  z.object({
    type: z.literal("basic"),
    usernameField: z.string().min(1),
    passwordField: z.string().min(1),
    /** appended to the username (Zendesk API tokens: `{email}/token`) */
    usernameSuffix: z.string().optional(),
  }),
  z.object({
    type: z.literal("service_account"),
    format: z.enum(["google_jwt", "snowflake_keypair_jwt", "okta_private_key_jwt", "azure_client_secret", "oauth_client_credentials"]),
    tokenUrl: ZTemplate.optional(),
    scopes: z.array(z.string().min(1)),
    secretFields: z.array(z.string().min(1)).min(1),
  }),
  z.object({
    type: z.literal("aws_sigv4"),
    service: z.string().min(1),
    /** the IAM actions Safe Mode needs: all List/Describe/Get */
    actions: z.array(z.string().min(1)).min(1),
    secretFields: z.array(z.string().min(1)).min(1),
  }),
  z.object({
    type: z.literal("connection_string"),
    secretField: z.string().min(1),
    /** what the database user must be limited to */
    grants: z.array(z.string().min(1)).default([]),
  }),
  z.object({ type: z.literal("none") }),
]);

/** Value types of a config field (checked at admission, config-fields.ts). */
export const CONFIG_TYPES = ["string", "integer", "boolean", "string_list", "enum"] as const;

/**
 * Named formats of string values (and of each item of a string_list). Vendor-specific shapes use
 * `pattern` instead, with the vendor's documentation as the source (the entry's docsUrl / notes).
 */
export const CONFIG_FORMATS = [
  /** a DNS name (RFC 1123), no port, no scheme */
  "hostname",
  /** a DNS name or an IPv4/IPv6 literal (databases on the customer's own hosts) */
  "host",
  /** one DNS label (a vendor subdomain / account name filled into `{{config.x}}.vendor.com`) */
  "dns_label",
  "uuid",
  /** an Entra tenant: its GUID or one of its verified domain names */
  "uuid_or_hostname",
  /** a plain identifier (SQL schema/database/role names, Snowflake warehouses) */
  "identifier",
  /** an http(s) URL without userinfo or fragment */
  "url",
  "https_url",
  /** an absolute local path or a file:// URL */
  "path",
  /** an AWS region code, e.g. us-east-1 */
  "aws_region",
  /** an HTTP header name (RFC 9110 token) */
  "header_name",
] as const;

export const ZConfigField = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/),
    description: z.string().min(1),
    type: z.enum(CONFIG_TYPES).default("string"),
    format: z.enum(CONFIG_FORMATS).optional(),
    /** an anchored regular expression (source) every string value must match (vendor shapes: `*.atlassian.net`, NetSuite account ids) */
    pattern: z.string().min(2).optional(),
    /** the allowed values of an `enum` field (sites, regions, engines) */
    values: z.array(z.string().min(1)).min(1).optional(),
    maxLength: z.number().int().positive().max(16_384).default(256),
    /** string_list: at most this many items */
    maxItems: z.number().int().positive().max(100).default(20),
    /** integer bounds */
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    required: z.boolean().default(false),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** a well-formed value, for docs and the admission tests (required fields always have one) */
    example: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).optional(),
    /** also accepts `sandbox:<name>[/path]`, expanded to a running sandbox's endpoint (sandbox/refs.ts) */
    sandboxRef: z.boolean().default(false),
    /**
     * the value names where the server connects (a URL, host or folder that is not a vendor host
     * template): admitted when well-formed, then permitted at connect time only when the tenant
     * approved it (or it is a running sandbox); otherwise the connection ends NETWORK_BLOCKED.
     */
    destination: z.boolean().default(false),
  })
  .superRefine((f, ctx) => {
    if (f.type === "enum" && !f.values) ctx.addIssue({ code: "custom", path: ["values"], message: "enum fields list their values" });
    if (f.type !== "enum" && f.values) ctx.addIssue({ code: "custom", path: ["values"], message: "only enum fields list values" });
    if ((f.type === "integer" || f.type === "boolean" || f.type === "enum") && (f.format || f.pattern)) {
      ctx.addIssue({ code: "custom", path: ["format"], message: `${f.type} fields take no format or pattern` });
    }
    if (f.required && f.example === undefined) ctx.addIssue({ code: "custom", path: ["example"], message: "required fields give an example" });
    if (f.pattern) {
      if (!f.pattern.startsWith("^") || !f.pattern.endsWith("$")) ctx.addIssue({ code: "custom", path: ["pattern"], message: "patterns are anchored (^…$)" });
      try {
        new RegExp(f.pattern);
      } catch {
        ctx.addIssue({ code: "custom", path: ["pattern"], message: "not a valid regular expression" });
      }
    }
  });
export type ConfigField = z.output<typeof ZConfigField>;

export const CATEGORIES = ["productivity", "identity", "cloud", "warehouse", "business", "generic"] as const;

export const ZCatalogEntry = z
  .object({
    sourceType: z.string().regex(/^[a-z0-9_]+$/),
    displayName: z.string().min(1),
    category: z.enum(CATEGORIES),
    /** the driver that interprets this entry; must exist in registry.ts DRIVERS */
    driver: z.enum(["rest", "salesforce", "openapi", "postgres", "jdbc", "mongo", "s3", "filesource"]),
    docsUrl: z.url(),
    authModes: z.array(ZAuthMode).min(1),
    configFields: z.array(ZConfigField).default([]),
    /** secret field names the credential must resolve to (never logged, never in URLs) */
    secrets: z.array(z.string().min(1)).min(0),
    baseUrl: ZTemplate.optional(),
    /** host patterns every request (and redirect hop) must match, unless config.base_url overrides the base */
    allowedHosts: z.array(ZTemplate).default([]),
    headers: z.record(z.string(), z.string()).optional(),
    health: ZRequest.optional(),
    streams: z.array(ZStream).default([]),
    readOnlyPost: z.array(ZReadOnlyPost).default([]),
    /** APIs that answer 200 with an error flag (Slack `ok:false`) */
    responseErrors: z
      .object({ okPath: ZJsonPath, errorPath: ZJsonPath, authErrors: z.array(z.string()), rateLimitErrors: z.array(z.string()).default([]) })
      .optional(),
    notes: z.string().optional(),
  })
  .superRefine((e, ctx) => {
    if (e.driver === "rest") {
      if (!e.baseUrl) ctx.addIssue({ code: "custom", path: ["baseUrl"], message: "rest entries need a baseUrl" });
      if (!e.health) ctx.addIssue({ code: "custom", path: ["health"], message: "rest entries need a health request" });
      if (e.streams.length === 0) ctx.addIssue({ code: "custom", path: ["streams"], message: "rest entries need at least one stream" });
    }
    if ((e.driver === "rest" || e.driver === "salesforce") && e.allowedHosts.length === 0) {
      ctx.addIssue({ code: "custom", path: ["allowedHosts"], message: "HTTP entries need allowedHosts" });
    }
    const posts = new Set(e.readOnlyPost.map((p) => p.path));
    const matches = (path: string, headers?: Record<string, string>) => findReadOnlyPost(e.readOnlyPost, path, headers ?? {}) !== undefined;
    for (const [i, s] of e.streams.entries()) {
      if (s.method === "POST" && !matches(s.path, s.headers)) {
        ctx.addIssue({ code: "custom", path: ["streams", i, "path"], message: `POST stream ${s.path} is not in readOnlyPost` });
      }
      if (s.pagination.type === "cursor" && s.pagination.continuePath && s.method === "POST" && !posts.has(s.pagination.continuePath)) {
        ctx.addIssue({ code: "custom", path: ["streams", i, "pagination"], message: `continue path ${s.pagination.continuePath} is not in readOnlyPost` });
      }
    }
    if (e.health?.method === "POST" && !matches(e.health.path, e.health.headers)) {
      ctx.addIssue({ code: "custom", path: ["health", "path"], message: "POST health request is not in readOnlyPost" });
    }
    for (const [i, p] of e.readOnlyPost.entries()) {
      if (p.kind === "sql" && !p.field) ctx.addIssue({ code: "custom", path: ["readOnlyPost", i, "field"], message: "sql read queries name their statement field" });
    }
  });

/** The readOnlyPost entry a POST matches: same path template and every declared header (case-insensitive name). */
export function findReadOnlyPost(
  list: readonly z.output<typeof ZReadOnlyPost>[],
  pathTemplate: string,
  headers: Record<string, string>,
): z.output<typeof ZReadOnlyPost> | undefined {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return list.find((p) => p.path === pathTemplate && Object.entries(p.headers ?? {}).every(([k, v]) => lower[k.toLowerCase()] === v));
}

export type ReadOnlyPostEntry = z.output<typeof ZReadOnlyPost>;
export type CatalogEntryInput = z.input<typeof ZCatalogEntry>;
export type CatalogEntry = z.output<typeof ZCatalogEntry>;
export type CatalogStream = z.output<typeof ZStream>;
export type CatalogRequest = z.output<typeof ZRequest>;
export type Pagination = z.output<typeof ZPagination>;
export type AuthMode = z.output<typeof ZAuthMode>;

/** Every scope/permission an entry asks for (OAuth scopes, service-account scopes, IAM actions). */
export function requestedScopes(e: CatalogEntry | CatalogEntryInput): string[] {
  return e.authModes.flatMap((m) =>
    m.type === "oauth2" || m.type === "service_account" ? m.scopes : m.type === "aws_sigv4" ? m.actions : [],
  );
}

/** Scopes that grant more than reading. Safe Mode never asks for one. */
export const WRITE_SCOPE_PATTERN = /write|admin|manage|delete|full_access|full-access|:all\b|create|update|modify|\bedit|sudo/i;

/** Read-only IAM actions: List*, Describe*, Get*. */
const READ_ONLY_ACTION = /^[a-z0-9-]+:(List|Describe|Get)[A-Za-z]*$/;

export function isReadOnlyScope(scope: string): boolean {
  if (/^https:\/\//.test(scope)) {
    // URL scopes: judge the path, not the host (management.azure.com is an audience, not a permission).
    const url = new URL(scope);
    // Google's URL scopes are read/write unless they say otherwise (…/auth/drive is full access).
    if (url.hostname.endsWith("googleapis.com")) return /(\.readonly|\.read-only)$/.test(url.pathname);
    return !WRITE_SCOPE_PATTERN.test(url.pathname);
  }
  if (WRITE_SCOPE_PATTERN.test(scope)) return false;
  if (scope.includes(":") && /^[a-z0-9-]+:[A-Z]/.test(scope)) return READ_ONLY_ACTION.test(scope);
  return true;
}

/** The `{{config.x}}` variables an entry uses anywhere. */
export function interpolationVariables(e: unknown): { namespace: string; name: string }[] {
  const out: { namespace: string; name: string }[] = [];
  for (const m of JSON.stringify(e).matchAll(/\{\{\s*([a-z_]+)\.([A-Za-z0-9_]+)\s*\}\}/g)) {
    out.push({ namespace: m[1]!, name: m[2]! });
  }
  return out;
}
