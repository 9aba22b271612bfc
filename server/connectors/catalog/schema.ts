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

/**
 * Provenance of one fact (issue 10 item 1): the vendor's own documentation page or published API
 * description, and the section or operation id that states the fact. Memory is not a source, and
 * there is no "unverified" escape: a fact nobody can reference is not stated by the catalog at all
 * — it comes from the tenant admin's input (a `{{config.x}}` value, or the per-instance OAuth app
 * registered under Settings, `endpoints: "oauth_app"`), and `adminInputFacts` lists it so the
 * readiness table (scripts/readiness-table.ts) says so in words.
 */
export const ZDocRef = z.strictObject({ url: z.url(), section: z.string().min(1) });
export const ZRef = z.union([ZDocRef, z.array(ZDocRef).min(1)]);
export type Ref = z.output<typeof ZRef>;

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
  /** where the vendor documents this request (operation id) */
  ref: ZRef.optional(),
});

/**
 * A field the vendor documents in a response, checked on every answer (issue 10 item 7): a far side
 * that answers 200 without the vendor's identifying fields is not the vendor.
 */
export const ZExpect = z.object({
  /** [] = the body itself (an array-bodied answer such as Okta's /users) */
  path: ZJsonPath,
  type: z.enum(["string", "number", "boolean", "object", "array"]),
  /** the value the vendor documents (Slack `ok: true`) */
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
});
export type Expect = z.output<typeof ZExpect>;

export const ZHealth = ZRequest.extend({ expect: z.array(ZExpect).optional() });

/**
 * How the resource ids of an intent (and config fields that name a resource) are proven to exist
 * (issue 10 item 7). `lookup` is a GET per id with `{{resource.id}}` (404 → absent, 401/403 → not
 * visible to the credential); `healthField` matches ids against a field of the health answer
 * (Slack's team_id); ids equal to a stream name are found when that stream is discovered.
 */
export const ZNamedResources = z.object({
  /** what one id names, in words ("organization login") */
  kind: z.string().min(1),
  /** config fields whose value names a resource too (GitHub `org`) */
  configFields: z.array(z.string().min(1)).default([]),
  lookup: ZRequest.extend({ expect: z.array(ZExpect).optional() }).optional(),
  healthField: ZJsonPath.optional(),
  ref: ZRef.optional(),
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
  /** where the vendor documents that this POST only reads */
  ref: ZRef.optional(),
});

/** References of an auth mode's facts (see `unreferencedFacts` for which are required). */
const ZAuthRefs = z
  .object({
    authorizeUrl: ZRef.optional(),
    tokenUrl: ZRef.optional(),
    /** the scopes (OAuth), IAM actions (SigV4) or database grants asked for */
    scopes: ZRef.optional(),
    /** how the client authenticates at the token endpoint (basic / post / JWT assertion) */
    tokenAuth: ZRef.optional(),
    authorizeParams: ZRef.optional(),
    /** that the vendor accepts PKCE on the authorization code flow */
    pkce: ZRef.optional(),
    /** a vendor-specific credential header or prefix (SSWS, Token token=, PRIVATE-TOKEN) */
    header: ZRef.optional(),
  })
  .optional();

/** Scopes are literal: a `{{config.x}}` in a scope would go out as text (Snowflake's role goes in the statement instead). */
const ZScope = z.string().min(1).refine((s) => !s.includes("{{"), "scopes are literal: never templated");

/**
 * Where a vendor's token response carries the tokens when it is not RFC 6749 §5.1 (Slack
 * oauth.v2.access: `token_type: "bot"`, user token under `authed_user`, errors as HTTP 200 `ok:false`).
 */
export const ZTokenResponse = z.object({
  /** the object holding access_token / token_type / expires_in / refresh_token / scope; [] = the top level */
  tokenPath: ZJsonPath.default([]),
  /** token_type values the vendor sends besides bearer; the token is still sent as `Bearer` */
  tokenTypes: z.array(z.string().min(1)).default([]),
  /** a boolean the vendor sets false on an error answered with HTTP 200, and where the error code is */
  okPath: ZJsonPath.optional(),
  errorPath: ZJsonPath.optional(),
  /** the token_type to assume when the vendor's documented response has none (Atlassian) */
  defaultTokenType: z.string().min(1).optional(),
  ref: ZRef.optional(),
});

/** A lookup made with the new token right after consent (Atlassian accessible-resources → cloudId). */
export const ZPostConsent = z.object({
  type: z.literal("atlassian_accessible_resources"),
  /** GET with the new access token; answers [{ id, url, name, scopes }] */
  url: z.url(),
  /** the API base per site; `{cloudId}` is filled with the site's id from the lookup */
  apiGateway: z.string().regex(/^https:\/\/[^{}]+\{cloudId\}[^{}]*$/),
  /** the config field naming the site (its host) whose cloudId is used */
  siteField: z.string().min(1),
  ref: ZRef.optional(),
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
    /**
     * Where the authorization and token endpoints come from: the catalog (`authorizeUrl`,
     * `tokenUrl`), or only the tenant's per-instance OAuth app (Settings → OAuth apps) or the
     * operator's OAUTH_<P>_AUTHORIZE_URL / _TOKEN_URL — for a vendor that shows each customer its own
     * endpoints and documents them nowhere public (Workday's View API Clients task). Then the catalog
     * names neither URL and `instanceHost` says which host a registered app belongs to.
     */
    endpoints: z.enum(["catalog", "oauth_app"]).default("catalog"),
    authorizeUrl: ZTemplate.optional(),
    tokenUrl: ZTemplate.optional(),
    /** the instance host (`{{config.host}}`) a per-instance OAuth app is registered for, when the catalog names no token URL */
    instanceHost: ZTemplate.optional(),
    scopes: z.array(ZScope),
    scopeSeparator: z.string().default(" "),
    pkce: z.boolean().default(false),
    authorizeParams: z.record(z.string(), z.string()).optional(),
    /** how the access token is sent; default `Authorization: Bearer <access_token>` */
    header: ZHeaderAuth.optional(),
    /** client authentication at the token endpoint (RFC 6749 §2.3.1, RFC 7523 §2.2); where documented: refs.tokenAuth */
    tokenAuth: z.enum(["client_secret_basic", "client_secret_post", "private_key_jwt"]).default("client_secret_post"),
    /**
     * How the token request's parameters are encoded: the RFC 6749 §4.1.3 form body, or a JSON
     * object (Zendesk's POST /oauth/tokens, oas.yaml CreateTokenForGrantType). Stated by refs.tokenAuth.
     */
    tokenRequestBody: z.enum(["form", "json"]).default("form"),
    tokenResponse: ZTokenResponse.optional(),
    /** the id_token `iss` the vendor documents when it is not the authorization server's origin (PagerDuty) */
    idToken: z.object({ issuer: z.url(), ref: ZRef.optional() }).optional(),
    postConsent: ZPostConsent.optional(),
    /** the vendor registers an OAuth client per customer instance (Zendesk, ServiceNow, Snowflake…): tenant OAuth apps name their instance host */
    clientPerInstance: z.boolean().default(false),
    refs: ZAuthRefs,
  }),
  z.object({
    type: z.literal("bearer"),
    secretField: z.string().min(1).default("token"),
    header: z.string().min(1).default("Authorization"),
    prefix: z.string().default("Bearer "),
    refs: ZAuthRefs,
  }),
  z.object({ type: z.literal("api_key"), headers: z.array(ZHeaderAuth).min(1), refs: ZAuthRefs }),
  z.object({
    type: z.literal("basic"),
    usernameField: z.string().min(1),
    passwordField: z.string().min(1),
    /** appended to the username (Zendesk API tokens: `{email}/token`) */
    usernameSuffix: z.string().optional(),
    refs: ZAuthRefs,
  }),
  z.object({
    type: z.literal("service_account"),
    format: z.enum(["google_jwt", "snowflake_keypair_jwt", "okta_private_key_jwt", "azure_client_secret", "oauth_client_credentials"]),
    tokenUrl: ZTemplate.optional(),
    scopes: z.array(z.string().min(1)),
    secretFields: z.array(z.string().min(1)).min(1),
    refs: ZAuthRefs,
  }),
  z.object({
    type: z.literal("aws_sigv4"),
    service: z.string().min(1),
    /** the IAM actions Safe Mode needs: all List/Describe/Get */
    actions: z.array(z.string().min(1)).min(1),
    secretFields: z.array(z.string().min(1)).min(1),
    refs: ZAuthRefs,
  }),
  z.object({
    type: z.literal("connection_string"),
    secretField: z.string().min(1),
    /** what the database user must be limited to */
    grants: z.array(z.string().min(1)).default([]),
    refs: ZAuthRefs,
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
  /** an identifier naming a user schema: never a database's own (pg_catalog, information_schema, mysql, sys …) */
  "user_schema",
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
    /**
     * enum fields: further template variables each value implies, as the vendor documents them
     * (Datadog's site parameter → its web app host, where consent happens). Catalog data, never
     * user input: an implied variable overrides any config value of the same name.
     */
    implies: z.record(z.string(), z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), z.string().min(1))).optional(),
    impliesRef: ZRef.optional(),
  })
  .superRefine((f, ctx) => {
    if (f.type === "enum" && !f.values) ctx.addIssue({ code: "custom", path: ["values"], message: "enum fields list their values" });
    if (f.implies) {
      if (f.type !== "enum") ctx.addIssue({ code: "custom", path: ["implies"], message: "only enum fields imply variables" });
      for (const v of f.values ?? []) if (!f.implies[v]) ctx.addIssue({ code: "custom", path: ["implies", v], message: "every value says what it implies" });
      for (const k of Object.keys(f.implies)) if (!(f.values ?? []).includes(k)) ctx.addIssue({ code: "custom", path: ["implies", k], message: "not one of the field's values" });
      if (!f.impliesRef) ctx.addIssue({ code: "custom", path: ["impliesRef"], message: "implied variables carry a vendor reference" });
    }
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
    baseUrlRef: ZRef.optional(),
    /** host patterns every request (and redirect hop) must match, unless config.base_url overrides the base */
    allowedHosts: z.array(ZTemplate).default([]),
    allowedHostsRef: ZRef.optional(),
    headers: z.record(z.string(), z.string()).optional(),
    health: ZHealth.optional(),
    /** how named resources are proven to exist (issue 10 item 7) */
    namedResources: ZNamedResources.optional(),
    /**
     * Least privilege (issue 10 item 6): "full" when every grant asked for only reads; "partial" or
     * "none" when the vendor offers no (complete) read-only grant — then `privilegeNote` says in
     * words what the grant allows, the consent screen shows it and the connection page flags it.
     */
    readOnlyGrant: z.enum(["full", "partial", "none"]).default("full"),
    privilegeNote: z.string().min(1).optional(),
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
    if (e.readOnlyGrant !== "full" && !e.privilegeNote) {
      ctx.addIssue({ code: "custom", path: ["privilegeNote"], message: "an entry without a full read-only grant says so in words (privilegeNote)" });
    }
    const broad = requestedScopes(e).filter((s) => !isReadOnlyScope(s));
    if (broad.length > 0 && (e.readOnlyGrant === "full" || !broad.every((s) => e.privilegeNote?.includes(s)))) {
      ctx.addIssue({ code: "custom", path: ["authModes"], message: `grants beyond reading (${broad.join(", ")}) need readOnlyGrant partial/none and a privilegeNote naming each` });
    }
    for (const [i, m] of e.authModes.entries()) {
      if (m.type !== "oauth2") continue;
      const at = (k: string) => ["authModes", i, k];
      if (m.endpoints === "catalog" && !m.tokenUrl) ctx.addIssue({ code: "custom", path: at("tokenUrl"), message: "an oauth2 mode names its token URL, or takes both endpoints from the tenant's OAuth app (endpoints: oauth_app)" });
      if (m.endpoints === "oauth_app") {
        if (m.authorizeUrl || m.tokenUrl) ctx.addIssue({ code: "custom", path: at("endpoints"), message: "endpoints from the tenant's OAuth app: the catalog names no authorize or token URL" });
        if (!m.clientPerInstance || !m.instanceHost) ctx.addIssue({ code: "custom", path: at("instanceHost"), message: "endpoints from the tenant's OAuth app need clientPerInstance and the instanceHost the app is registered for" });
        if (m.grant !== "authorization_code") ctx.addIssue({ code: "custom", path: at("grant"), message: "endpoints from the tenant's OAuth app are for browser consent (authorization_code)" });
      }
    }
    if (STRICT_PROVENANCE) {
      for (const f of unreferencedFacts(e)) ctx.addIssue({ code: "custom", path: f.path, message: `unreferenced fact: ${f.fact}` });
    }
  });

/**
 * When true the schema refuses an entry with an unreferenced fact (issue 10 item 1). There is no
 * "unverified" reference: every fact the catalog states carries a `{ url, section }` reference.
 */
export const STRICT_PROVENANCE = true;

export type Fact = { path: (string | number)[]; fact: string; ref: Ref | undefined };

/**
 * Every fact of an entry that must carry a reference: URLs (base, hosts, authorize, token), scopes
 * / IAM actions / database grants, token client authentication, extra authorize parameters,
 * vendor credential headers, the health request, each stream, each read-only POST, each lookup.
 */
export function entryFacts(e: CatalogEntryInput | CatalogEntry): Fact[] {
  const out: Fact[] = [];
  const add = (path: (string | number)[], fact: string, ref: Ref | undefined) => out.push({ path, fact, ref });
  if (e.baseUrl && !adminBase(e)) add(["baseUrlRef"], `base URL ${e.baseUrl}`, e.baseUrlRef);
  if ((e.allowedHosts ?? []).length > 0 && !adminHosts(e)) add(["allowedHostsRef"], `hosts ${(e.allowedHosts ?? []).join(", ")}`, e.allowedHostsRef);
  for (const [i, f] of (e.configFields ?? []).entries()) {
    if (f.implies) add(["configFields", i, "impliesRef"], `${f.name} implies ${[...new Set(Object.values(f.implies).flatMap((v) => Object.keys(v)))].join(", ")}`, f.impliesRef);
  }
  for (const [i, m] of e.authModes.entries()) {
    const at = (k: string) => ["authModes", i, "refs", k];
    const r = m.type === "none" ? undefined : m.refs;
    if (m.type === "oauth2") {
      if (m.authorizeUrl) add(at("authorizeUrl"), `authorize URL ${m.authorizeUrl}`, r?.authorizeUrl);
      if (m.tokenUrl) add(at("tokenUrl"), `token URL ${m.tokenUrl}`, r?.tokenUrl);
      if (m.scopes.length) add(at("scopes"), `scopes ${m.scopes.join(" ")}`, r?.scopes);
      add(at("tokenAuth"), `token client authentication${m.tokenRequestBody === "json" ? " (JSON request body)" : ""}`, r?.tokenAuth);
      if (m.authorizeParams && Object.keys(m.authorizeParams).length) add(at("authorizeParams"), `authorize parameters ${Object.keys(m.authorizeParams).join(", ")}`, r?.authorizeParams);
    } else if (m.type === "service_account") {
      if (m.tokenUrl) add(at("tokenUrl"), `token URL ${m.tokenUrl}`, r?.tokenUrl);
      if (m.scopes.length) add(at("scopes"), `scopes ${m.scopes.join(" ")}`, r?.scopes);
      add(at("tokenAuth"), `${m.format} token request`, r?.tokenAuth);
    } else if (m.type === "aws_sigv4") {
      add(at("scopes"), `IAM actions ${m.actions.join(", ")}`, r?.scopes);
    } else if (m.type === "connection_string") {
      if ((m.grants ?? []).length) add(at("scopes"), `grants ${(m.grants ?? []).join(", ")}`, r?.scopes);
    } else if (m.type === "api_key") {
      add(at("header"), `credential header ${m.headers.map((h) => `${h.name}: ${h.prefix ?? ""}…`).join(", ")}`, r?.header);
    } else if (m.type === "bearer" && (m.header ?? "Authorization") !== "Authorization") {
      add(at("header"), `credential header ${m.header}`, r?.header);
    }
  }
  if (e.health) add(["health", "ref"], `health ${e.health.method ?? "GET"} ${e.health.path}`, e.health.ref);
  for (const [i, s] of (e.streams ?? []).entries()) add(["streams", i, "ref"], `stream ${s.name}: ${s.method ?? "GET"} ${s.path}`, s.ref);
  for (const [i, p] of (e.readOnlyPost ?? []).entries()) add(["readOnlyPost", i, "ref"], `read-only POST ${p.path}${p.headers ? ` ${Object.values(p.headers).join(" ")}` : ""}`, p.ref);
  if (e.namedResources?.lookup) add(["namedResources", "lookup", "ref"], `resource lookup ${e.namedResources.lookup.path}`, e.namedResources.lookup.ref);
  return out;
}

/** Facts with no reference at all. */
export function unreferencedFacts(e: CatalogEntryInput | CatalogEntry): Fact[] {
  return entryFacts(e).filter((f) => f.ref === undefined);
}

/**
 * A value that is nothing but the admin's input: `{{config.x}}` placeholders, optionally after a
 * bare `https://` (Workday's `https://{{config.host}}{{config.rest_path}}`, `{{config.host}}`). The catalog states
 * nothing there, so no reference is due; `adminInputFacts` lists it instead.
 */
export function isAdminInput(template: string): boolean {
  return /^(https:\/\/)?(\{\{\s*config\.[a-z][a-z0-9_]*\s*\}\})+$/.test(template.trim());
}

/** The base URL / host list is only the admin's input and the entry cites nothing for it. */
const adminBase = (e: CatalogEntryInput | CatalogEntry) => !!e.baseUrl && !e.baseUrlRef && isAdminInput(e.baseUrl);
const adminHosts = (e: CatalogEntryInput | CatalogEntry) => (e.allowedHosts ?? []).length > 0 && !e.allowedHostsRef && (e.allowedHosts ?? []).every(isAdminInput);
const configNames = (t: string) => t.replace(/\{\{\s*config\.([a-z0-9_]+)\s*\}\}/g, "config.$1");

/** What an entry takes from the tenant admin instead of stating it (shown in words in the readiness table). */
export function adminInputFacts(e: CatalogEntryInput | CatalogEntry): string[] {
  const out: string[] = [];
  for (const m of e.authModes) {
    if (m.type !== "oauth2") continue;
    if (m.endpoints === "oauth_app") out.push("authorization and token endpoints: the tenant's per-instance OAuth app (Settings → OAuth apps)");
    if (m.grant === "authorization_code" && m.scopes.length === 0) out.push("scopes: those the admin registered on the vendor's API client");
  }
  if (adminBase(e)) out.push(`base URL: ${configNames(e.baseUrl!).replace(/(config\.[a-z0-9_]+)(?=config\.)/g, "$1 + ")}`);
  if (adminHosts(e)) out.push(`hosts: ${(e.allowedHosts ?? []).map(configNames).join(", ")}`);
  return out;
}

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
export function requestedScopes(e: Pick<CatalogEntry | CatalogEntryInput, "authModes">): string[] {
  return e.authModes.flatMap((m) =>
    m.type === "oauth2" || m.type === "service_account" ? m.scopes : m.type === "aws_sigv4" ? m.actions : [],
  );
}

/** Scopes that grant more than reading. Safe Mode never asks for one. */
export const WRITE_SCOPE_PATTERN = /write|admin|manage|delete|full_access|full-access|:all\b|create|update|modify|\bedit|sudo/i;

/**
 * Scopes whose names do not say so but that the vendor documents as read/write or full access:
 * ServiceNow `useraccount` (the user's full access), Salesforce `api` / `full` / `web`, GitHub
 * `repo`, Microsoft `.default` (whatever application roles were granted) and Google's unsuffixed
 * URL scopes (handled below). An entry may ask for one only with readOnlyGrant partial/none and a
 * privilegeNote naming it.
 */
export const FULL_ACCESS_SCOPES: ReadonlySet<string> = new Set(["useraccount", "api", "full", "web", "repo", "public_repo"]);

/** Read-only IAM actions: List*, Describe*, Get*. */
const READ_ONLY_ACTION = /^[a-z0-9-]+:(List|Describe|Get)[A-Za-z]*$/;

export function isReadOnlyScope(scope: string): boolean {
  if (FULL_ACCESS_SCOPES.has(scope)) return false;
  if (/^https:\/\//.test(scope)) {
    // Microsoft's `/.default` stands for every permission granted to the app, not a read-only one.
    if (scope.endsWith("/.default")) return false;
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
