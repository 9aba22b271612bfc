/**
 * SANDBOX — not a vendor. A local node:http server that replays the documented response shapes of
 * a few SaaS APIs (Salesforce REST, Slack Web API, GitHub REST, Jira Cloud REST v3, Zendesk Support,
 * and an OpenAPI-described demo API), because the real services cannot be reached from CI or the
 * embedded demo. Catalog entries are used unchanged by pointing `config.base_url` at `urlFor(vendor)`.
 *
 * Each list has 35 records so the 20-record Safe Mode cap is visible, and pages are capped at 10 (below
 * the vendors' own maxima) so that pagination is exercised. Every request is logged server-side
 * (`requests`) so tests can prove what did — and did not — reach the "vendor". Per-vendor modes:
 * ok, unauthorized (401; Slack's documented 200 + ok:false), rate_limited (429 + Retry-After),
 * slow (answers after `slowMs`), huge (a multi-megabyte body, streamed), error (500).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { stringify as toYaml } from "yaml";
import { getEnv } from "../../env";

export const SANDBOX_VENDORS = ["salesforce", "slack", "github", "jira", "zendesk", "openapi"] as const;
export type SandboxVendor = (typeof SANDBOX_VENDORS)[number];
export type SandboxMode = "ok" | "unauthorized" | "rate_limited" | "slow" | "huge" | "error";

export type SandboxRequest = { vendor: string; method: string; path: string; query: Record<string, string>; authorized: boolean };

/** A success answer a stand-in was about to send that its vendor's description does not allow. */
export type SandboxContractViolation = { vendor: string; method: string; path: string; status: number; problems: string[] };

export type HttpSandbox = {
  baseUrl: string;
  token: string;
  /** the value for a catalog entry's `config.base_url` */
  urlFor(vendor: SandboxVendor): string;
  setMode(vendor: SandboxVendor, mode: SandboxMode): void;
  /** every request received, oldest first */
  readonly requests: readonly SandboxRequest[];
  count(filter?: Partial<Pick<SandboxRequest, "vendor" | "method">> & { pathIncludes?: string }): number;
  resetLog(): void;
  /** answers the contract guard refused (sent as 502 instead) */
  readonly contractViolations: readonly SandboxContractViolation[];
  close(): Promise<void>;
};

export type HttpSandboxOptions = {
  port?: number;
  host?: string;
  token?: string;
  /** delay of the `slow` mode */
  slowMs?: number;
  /** body size of the `huge` mode */
  hugeBytes?: number;
  /** Retry-After (seconds) of the `rate_limited` mode */
  retryAfterSeconds?: number;
  /**
   * Bearer tokens other than `token` that are accepted too, e.g. ones an OAuth server issued
   * through admin consent. Default: when SANDBOX_INTROSPECTION_URL is set, tokens that RFC 7662
   * introspection at that URL reports active; otherwise none.
   */
  acceptToken?: (token: string) => boolean | Promise<boolean>;
  /**
   * Checks each JSON answer before it is sent (contracts/index.ts sandboxContractGuard: the
   * vendor's own response schema); an answer with problems is replaced by a 502 naming them, so a
   * stand-in cannot say what the vendor does not. `path` is the part after the vendor's prefix.
   */
  contractGuard?: (answer: { vendor: string; method: string; path: string; status: number; body: unknown }) => string[];
};

export type IntrospectionConfig = { url: string; clientId?: string; clientSecret?: string; cacheMs?: number };

/**
 * Accepts bearer tokens an authorization server reports `active` (RFC 7662), authenticating with
 * client_secret_basic when a client is given. Positive answers are cached briefly (one onboarding
 * run makes several requests); failures and unknown tokens are never cached.
 */
export function introspectionAcceptor(cfg: IntrospectionConfig): (token: string) => Promise<boolean> {
  const cache = new Map<string, number>();
  const ttl = cfg.cacheMs ?? 30_000;
  return async (token) => {
    const until = cache.get(token);
    if (until && until > Date.now()) return true;
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
    if (cfg.clientId) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(cfg.clientId)}:${encodeURIComponent(cfg.clientSecret ?? "")}`).toString("base64")}`;
    try {
      const res = await fetch(cfg.url, { method: "POST", headers, body: new URLSearchParams({ token, token_type_hint: "access_token" }), signal: AbortSignal.timeout(5_000) });
      if (!res.ok) return false;
      const body = (await res.json()) as { active?: unknown; exp?: unknown };
      if (body.active !== true) return false;
      const exp = typeof body.exp === "number" ? body.exp * 1000 : Infinity;
      cache.set(token, Math.min(Date.now() + ttl, exp));
      return true;
    } catch {
      return false;
    }
  };
}

function acceptorFromEnv(): ((token: string) => Promise<boolean>) | undefined {
  const env = getEnv();
  if (!env.SANDBOX_INTROSPECTION_URL) return undefined;
  return introspectionAcceptor({ url: env.SANDBOX_INTROSPECTION_URL, clientId: env.SANDBOX_INTROSPECTION_CLIENT_ID, clientSecret: env.SANDBOX_INTROSPECTION_CLIENT_SECRET });
}

export const SANDBOX_RECORDS = 35;
export const SANDBOX_PAGE_CAP = 10;
export const SANDBOX_TOKEN = "sandbox-token";

const BASE_PATHS: Record<SandboxVendor, string> = {
  salesforce: "/salesforce",
  slack: "/slack/api",
  github: "/github",
  jira: "/jira",
  zendesk: "/zendesk/api/v2",
  openapi: "/openapi",
};

// ---------------------------------------------------------------- fixture data (deterministic)

const day = (i: number) => new Date(Date.UTC(2024, 0, 1 + i, 9, 30, 0)).toISOString();
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

type SfField = { name: string; type: string; nillable: boolean; label: string };
const sf = (name: string, type: string, nillable = true): SfField => ({ name, type, nillable, label: name.replace(/([a-z])([A-Z])/g, "$1 $2") });

/** the sandbox org's 18-character id (seeds/intents/03-salesforce-sandbox.json names its 15-character form) */
export const SF_ORG_ID = "00D5g000004SbxAEAS";
/** sObjects the sandbox's integration user may not see: describe answers 403 INSUFFICIENT_ACCESS */
const SF_RESTRICTED = new Set(["LoginHistory"]);

const SF_OBJECTS: Record<string, { label: string; prefix: string; queryable: boolean; fields: SfField[]; row: (i: number) => Record<string, unknown> }> = {
  Account: {
    label: "Account",
    prefix: "001",
    queryable: true,
    fields: [sf("Id", "id", false), sf("IsDeleted", "boolean", false), sf("Name", "string", false), sf("Industry", "picklist"), sf("AnnualRevenue", "currency"), sf("BillingAddress", "address"), sf("CreatedDate", "datetime", false)],
    row: (i) => ({ Id: `001D000000Ia${String(i).padStart(4, "0")}`, IsDeleted: false, Name: `Account ${i}`, Industry: ["Technology", "Finance", "Retail"][i % 3], AnnualRevenue: 100000 * i, BillingAddress: { city: "Paris", country: "FR" }, CreatedDate: day(i).replace("Z", "+0000") }),
  },
  Contact: {
    label: "Contact",
    prefix: "003",
    queryable: true,
    fields: [sf("Id", "id", false), sf("FirstName", "string"), sf("LastName", "string", false), sf("Email", "email"), sf("AccountId", "reference"), sf("CreatedDate", "datetime", false)],
    row: (i) => ({ Id: `003D000000Ib${String(i).padStart(4, "0")}`, FirstName: `First${i}`, LastName: `Last${i}`, Email: `contact${i}@example.com`, AccountId: `001D000000Ia${String(i).padStart(4, "0")}`, CreatedDate: day(i).replace("Z", "+0000") }),
  },
  Opportunity: {
    label: "Opportunity",
    prefix: "006",
    queryable: true,
    fields: [sf("Id", "id", false), sf("Name", "string", false), sf("StageName", "picklist", false), sf("Amount", "currency"), sf("CloseDate", "date", false)],
    row: (i) => ({ Id: `006D000000Ic${String(i).padStart(4, "0")}`, Name: `Deal ${i}`, StageName: "Prospecting", Amount: 5000 + i, CloseDate: day(i).slice(0, 10) }),
  },
  Case: {
    label: "Case",
    prefix: "500",
    queryable: true,
    fields: [sf("Id", "id", false), sf("CaseNumber", "string", false), sf("Status", "picklist"), sf("Subject", "string"), sf("CreatedDate", "datetime", false)],
    row: (i) => ({ Id: `500D000000Id${String(i).padStart(4, "0")}`, CaseNumber: String(1000 + i), Status: "New", Subject: `Case ${i}`, CreatedDate: day(i).replace("Z", "+0000") }),
  },
  AccountChangeEvent: {
    label: "Account Change Event",
    prefix: "",
    queryable: false,
    fields: [sf("Id", "id", false)],
    row: (i) => ({ Id: String(i) }),
  },
};

// ---------------------------------------------------------------- helpers

type Ctx = { req: http.IncomingMessage; res: http.ServerResponse; url: URL; origin: string; rest: string; authorized: boolean; body: string };

/** The guard of the request a response answers (set per request when the sandbox has one). */
const guards = new WeakMap<http.ServerResponse, (status: number, body: unknown) => string[] | undefined>();

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const problems = typeof body === "string" ? undefined : guards.get(res)?.(status, body);
  if (problems?.length) {
    status = 502;
    body = { sandbox_contract_violation: problems };
    headers = {};
  }
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

const num = (v: string | null, d: number) => (v !== null && /^\d+$/.test(v) ? Number(v) : d);
const pageSize = (v: string | null, d: number) => Math.max(1, Math.min(num(v, d), SANDBOX_PAGE_CAP));
const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");

// ---------------------------------------------------------------- vendors

function salesforce(c: Ctx): void {
  if (!c.authorized) return send(c.res, 401, [{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }]);
  const p = c.rest;
  if (p === "/services/data" || p === "/services/data/") return send(c.res, 200, [{ label: "Winter '25", url: "/services/data/v62.0", version: "62.0" }]);
  const m = /^\/services\/data\/v62\.0(\/.*)?$/.exec(p);
  if (!m) return send(c.res, 404, [{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }]);
  const sub = m[1] ?? "/";
  if (sub === "/" ) return send(c.res, 200, { sobjects: "/services/data/v62.0/sobjects", query: "/services/data/v62.0/query", limits: "/services/data/v62.0/limits" });
  if (sub === "/limits") return send(c.res, 200, { DailyApiRequests: { Max: 15000, Remaining: 14990 }, DailyBulkApiBatches: { Max: 15000, Remaining: 15000 } });
  if (sub === "/sobjects" || sub === "/sobjects/") {
    return send(c.res, 200, {
      encoding: "UTF-8",
      maxBatchSize: 200,
      sobjects: Object.entries(SF_OBJECTS).map(([name, o]) => ({
        name,
        label: o.label,
        keyPrefix: o.prefix || null,
        custom: false,
        queryable: o.queryable,
        retrieveable: o.queryable,
        searchable: o.queryable,
        createable: o.queryable,
        updateable: o.queryable,
        deletable: o.queryable,
        urls: { sobject: `/services/data/v62.0/sobjects/${name}`, describe: `/services/data/v62.0/sobjects/${name}/describe` },
      })),
    });
  }
  const d = /^\/sobjects\/([A-Za-z0-9_]+)\/describe\/?$/.exec(sub);
  if (d) {
    // an object this integration user's profile may not see (Salesforce answers 403 INSUFFICIENT_ACCESS)
    if (SF_RESTRICTED.has(d[1]!)) return send(c.res, 403, [{ errorCode: "INSUFFICIENT_ACCESS", message: "insufficient access rights on object id" }]);
    const o = SF_OBJECTS[d[1]!];
    if (!o) return send(c.res, 404, [{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }]);
    return send(c.res, 200, { name: d[1], label: o.label, queryable: o.queryable, custom: false, fields: o.fields.map((f) => ({ ...f, length: f.type === "string" ? 255 : 0 })) });
  }
  const more = /^\/query\/([A-Za-z0-9]+)-(\d+)-(\d+)-([A-Za-z]+)$/.exec(sub);
  if (sub === "/query" || sub === "/query/" || more) {
    let object: string;
    let fields: string[];
    let limit: number;
    let start: number;
    if (more) {
      object = more[4]!;
      start = Number(more[2]);
      limit = Number(more[3]);
      const o = SF_OBJECTS[object];
      fields = o ? o.fields.map((f) => f.name) : [];
    } else {
      const q = c.url.searchParams.get("q") ?? "";
      const parsed = /^\s*SELECT\s+(.+?)\s+FROM\s+([A-Za-z0-9_]+)(?:\s+WHERE\s+.+?)?(?:\s+ORDER BY\s+.+?)?(?:\s+LIMIT\s+(\d+))?\s*$/i.exec(q);
      if (!parsed) return send(c.res, 400, [{ message: "unexpected token", errorCode: "MALFORMED_QUERY" }]);
      fields = parsed[1]!.split(",").map((s) => s.trim());
      object = parsed[2]!;
      limit = parsed[3] ? Number(parsed[3]) : SANDBOX_RECORDS;
      start = 0;
    }
    // the org's own Organization record: one row, its id (named resources check the org id against it)
    if (object === "Organization" && !more) return send(c.res, 200, { totalSize: 1, done: true, records: [{ attributes: { type: "Organization", url: `/services/data/v62.0/sobjects/Organization/${SF_ORG_ID}` }, Id: SF_ORG_ID }] });
    const o = SF_OBJECTS[object];
    if (!o || !o.queryable) return send(c.res, 400, [{ message: `sObject type '${object}' is not supported.`, errorCode: "INVALID_TYPE" }]);
    const total = Math.min(limit, SANDBOX_RECORDS);
    const end = Math.min(total, start + SANDBOX_PAGE_CAP);
    const records = range(SANDBOX_RECORDS)
      .slice(start, end)
      .map((i) => {
        const row = o.row(i);
        return { attributes: { type: object, url: `/services/data/v62.0/sobjects/${object}/${row.Id}` }, ...Object.fromEntries(fields.map((f) => [f, row[f] ?? null])) };
      });
    const done = end >= total;
    return send(c.res, 200, { totalSize: total, done, ...(done ? {} : { nextRecordsUrl: `/services/data/v62.0/query/01gD0000002HU6KIAW-${end}-${total}-${object}` }), records });
  }
  return send(c.res, 404, [{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }]);
}

function slack(c: Ctx): void {
  const auth = c.req.headers.authorization;
  // Slack answers 200 with ok:false for authentication failures (documented behaviour).
  if (!auth) return send(c.res, 200, { ok: false, error: "not_authed" });
  if (!c.authorized) return send(c.res, 200, { ok: false, error: "invalid_auth" });
  const list = (key: string, make: (i: number) => Record<string, unknown>) => {
    const offset = c.url.searchParams.get("cursor") ? Number(unb64(c.url.searchParams.get("cursor")!).split(":")[1]) : 0;
    const limit = pageSize(c.url.searchParams.get("limit"), 100);
    const items = range(SANDBOX_RECORDS).slice(offset, offset + limit).map(make);
    const next = offset + limit < SANDBOX_RECORDS ? b64(`${key}:${offset + limit}`) : "";
    // users.list answers with cache_ts too (its response schema requires it)
    send(c.res, 200, { ok: true, [key]: items, ...(key === "members" ? { cache_ts: 1700000000 } : {}), response_metadata: { next_cursor: next } });
  };
  switch (c.rest) {
    case "/auth.test":
      return send(c.res, 200, { ok: true, url: "https://acme-sandbox.slack.com/", team: "Acme Sandbox", user: "aam-bot", team_id: "T0SANDBOX", user_id: "U0BOT", bot_id: "B0SANDBOX1", is_enterprise_install: false });
    case "/conversations.list":
      // objs_conversation, its public-channel shape (is_mpim false): every field it requires, and
      // only fields it has (additionalProperties: false). Creator and topic/purpose setter: user 1.
      return list("channels", (i) => ({
        id: `C${String(i).padStart(8, "0")}`,
        name: `channel-${i}`,
        name_normalized: `channel-${i}`,
        is_channel: true,
        is_group: false,
        is_im: false,
        is_mpim: false,
        is_private: false,
        is_archived: false,
        is_general: i === 1,
        is_shared: false,
        is_ext_shared: false,
        is_org_shared: false,
        is_pending_ext_shared: false,
        pending_shared: [],
        is_member: i <= 5,
        created: 1700000000 + i * 86400,
        creator: "U00000001",
        unlinked: 0,
        num_members: 3 + i,
        previous_names: [],
        topic: { value: `topic ${i}`, creator: "U00000001", last_set: 1700000000 },
        purpose: { value: `purpose ${i}`, creator: "U00000001", last_set: 1700000000 },
      }));
    case "/users.list":
      // objs_user (non-enterprise): id, name, profile, is_bot, updated, is_app_user required;
      // objs_user_profile's required fields too. No email: that needs users:read.email.
      return list("members", (i) => ({
        id: `U${String(i).padStart(8, "0")}`,
        team_id: "T0SANDBOX",
        name: `user${i}`,
        deleted: false,
        color: "9f69e7",
        real_name: `User ${i}`,
        tz: "Europe/Paris",
        tz_label: "Central European Time",
        tz_offset: 3600,
        profile: {
          title: "",
          phone: "",
          skype: "",
          real_name: `User ${i}`,
          real_name_normalized: `User ${i}`,
          display_name: `user${i}`,
          display_name_normalized: `user${i}`,
          fields: null,
          status_text: "",
          status_emoji: "",
          status_expiration: 0,
          avatar_hash: `g${String(i).padStart(11, "0")}`,
          first_name: "User",
          last_name: String(i),
          team: "T0SANDBOX",
        },
        is_admin: i === 1,
        is_owner: i === 1,
        is_primary_owner: i === 1,
        is_restricted: false,
        is_ultra_restricted: false,
        is_bot: false,
        is_app_user: false,
        updated: 1700000000 + i,
      }));
    default:
      return send(c.res, 200, { ok: false, error: "unknown_method" });
  }
}

/** GitHub's simple-user: the fields its description requires (api.github.com.subset.json #/components/schemas/simple-user). */
function ghUser(login: string, id: number, type: "User" | "Organization", node: string): Record<string, unknown> {
  const api = `https://api.github.com/users/${login}`;
  return {
    login,
    id,
    node_id: node,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: `https://github.com/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type,
    site_admin: false,
  };
}

/** GitHub's minimal-repository: its required fields (the URL templates as api.github.com serves them). */
function ghRepo(org: string, i: number): Record<string, unknown> {
  const full = `${org}/repo-${i}`;
  const api = `https://api.github.com/repos/${full}`;
  const urls = Object.fromEntries(
    (
      [
        ["archive_url", "/{archive_format}{/ref}"], ["assignees_url", "/assignees{/user}"], ["blobs_url", "/git/blobs{/sha}"], ["branches_url", "/branches{/branch}"],
        ["collaborators_url", "/collaborators{/collaborator}"], ["comments_url", "/comments{/number}"], ["commits_url", "/commits{/sha}"], ["compare_url", "/compare/{base}...{head}"],
        ["contents_url", "/contents/{+path}"], ["contributors_url", "/contributors"], ["deployments_url", "/deployments"], ["downloads_url", "/downloads"], ["events_url", "/events"],
        ["forks_url", "/forks"], ["git_commits_url", "/git/commits{/sha}"], ["git_refs_url", "/git/refs{/sha}"], ["git_tags_url", "/git/tags{/sha}"], ["hooks_url", "/hooks"],
        ["issue_comment_url", "/issues/comments{/number}"], ["issue_events_url", "/issues/events{/number}"], ["issues_url", "/issues{/number}"], ["keys_url", "/keys{/key_id}"],
        ["labels_url", "/labels{/name}"], ["languages_url", "/languages"], ["merges_url", "/merges"], ["milestones_url", "/milestones{/number}"],
        ["notifications_url", "/notifications{?since,all,participating}"], ["pulls_url", "/pulls{/number}"], ["releases_url", "/releases{/id}"], ["stargazers_url", "/stargazers"],
        ["statuses_url", "/statuses/{sha}"], ["subscribers_url", "/subscribers"], ["subscription_url", "/subscription"], ["tags_url", "/tags"], ["teams_url", "/teams"], ["trees_url", "/git/trees{/sha}"],
      ] as const
    ).map(([k, suffix]) => [k, `${api}${suffix}`]),
  );
  return {
    id: 1000 + i,
    node_id: b64(`Repository${1000 + i}`),
    name: `repo-${i}`,
    full_name: full,
    private: i % 4 === 0,
    owner: ghUser(org, 99, "Organization", b64("Organization99")),
    html_url: `https://github.com/${full}`,
    description: i % 5 === 0 ? null : `Repository ${i}`,
    fork: false,
    url: api,
    ...urls,
    created_at: day(i),
    updated_at: day(i + 1),
    pushed_at: day(i + 2),
    size: 100 * i,
    stargazers_count: i,
    language: "TypeScript",
    default_branch: "main",
    visibility: i % 4 === 0 ? "private" : "public",
  };
}

function github(c: Ctx): void {
  if (!c.authorized) return send(c.res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });
  if (c.rest === "/user") {
    // a public-user (the private-user fields need a user token with the user scope)
    return send(c.res, 200, {
      ...ghUser("aam-bot", 1, "User", "MDQ6VXNlcjE="),
      name: "AAM Bot",
      company: null,
      blog: "",
      location: null,
      email: null,
      hireable: null,
      bio: null,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: day(0),
      updated_at: day(0),
    });
  }
  // orgs named no-such-… do not exist (named-resource tests, issue 10 item 7); every other org does
  const o = /^\/orgs\/([^/]+)$/.exec(c.rest);
  if (o && !decodeURIComponent(o[1]!).startsWith("no-such-")) {
    const login = decodeURIComponent(o[1]!);
    const api = `${c.origin}/orgs/${encodeURIComponent(login)}`;
    return send(c.res, 200, {
      login, id: 9000, node_id: b64(`Organization9000`), url: api, repos_url: `${api}/repos`, events_url: `${api}/events`, hooks_url: `${api}/hooks`, issues_url: `${api}/issues`,
      members_url: `${api}/members{/member}`, public_members_url: `${api}/public_members{/member}`, avatar_url: "https://avatars.githubusercontent.com/u/9000?v=4", description: null,
      html_url: `https://github.com/${login}`, has_organization_projects: true, has_repository_projects: true, public_repos: 0, public_gists: 0, followers: 0, following: 0,
      type: "Organization", created_at: day(0), updated_at: day(0), archived_at: null,
    });
  }
  const m = /^\/orgs\/([^/]+)\/(repos|members)$/.exec(c.rest);
  if (!m || decodeURIComponent(m[1]!).startsWith("no-such-")) return send(c.res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
  const org = decodeURIComponent(m[1]!);
  const perPage = pageSize(c.url.searchParams.get("per_page"), 30);
  const page = Math.max(1, num(c.url.searchParams.get("page"), 1));
  const last = Math.ceil(SANDBOX_RECORDS / perPage);
  const items = range(SANDBOX_RECORDS)
    .slice((page - 1) * perPage, page * perPage)
    .map((i) =>
      m[2] === "repos" ? ghRepo(org, i) : ghUser(`member${i}`, 5000 + i, "User", b64(`User${5000 + i}`)),
    );
  const link = (p: number) => {
    const u = new URL(c.url.toString().replace(/^http:\/\/[^/]+/, c.origin));
    u.searchParams.set("per_page", String(perPage));
    u.searchParams.set("page", String(p));
    return u.toString();
  };
  const rels: string[] = [];
  if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
  if (page > 1) rels.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`);
  return send(c.res, 200, items, rels.length ? { link: rels.join(", ") } : {});
}

function jira(c: Ctx): void {
  if (!c.authorized) return send(c.res, 401, "Client must be authenticated to access this resource.");
  const issue = (i: number) => ({
    id: String(10000 + i),
    key: `AAM-${i}`,
    self: `${c.origin}/jira/rest/api/3/issue/${10000 + i}`,
    fields: { summary: `Issue ${i}`, status: { name: i % 2 ? "To Do" : "Done" }, issuetype: { name: "Task" }, created: day(i).replace("Z", "+0000"), updated: day(i + 1).replace("Z", "+0000") },
  });
  switch (c.rest) {
    case "/rest/api/3/myself":
      return send(c.res, 200, { self: `${c.origin}/jira/rest/api/3/user?accountId=5b10a2844c20165700ede21g`, accountId: "5b10a2844c20165700ede21g", accountType: "atlassian", emailAddress: "aam-bot@example.com", displayName: "AAM Bot", active: true, timeZone: "Europe/Paris" });
    case "/rest/api/3/search": {
      const startAt = num(c.url.searchParams.get("startAt"), 0);
      const maxResults = pageSize(c.url.searchParams.get("maxResults"), 50);
      return send(c.res, 200, { expand: "names,schema", startAt, maxResults, total: SANDBOX_RECORDS, issues: range(SANDBOX_RECORDS).slice(startAt, startAt + maxResults).map(issue) });
    }
    case "/rest/api/3/search/jql": {
      const token = c.url.searchParams.get("nextPageToken");
      const startAt = token ? Number(unb64(token)) : 0;
      const maxResults = pageSize(c.url.searchParams.get("maxResults"), 50);
      const end = startAt + maxResults;
      const isLast = end >= SANDBOX_RECORDS;
      return send(c.res, 200, { issues: range(SANDBOX_RECORDS).slice(startAt, end).map(issue), isLast, ...(isLast ? {} : { nextPageToken: b64(String(end)) }) });
    }
    case "/rest/api/3/project/search": {
      const startAt = num(c.url.searchParams.get("startAt"), 0);
      const maxResults = pageSize(c.url.searchParams.get("maxResults"), 50);
      const isLast = startAt + maxResults >= SANDBOX_RECORDS;
      return send(c.res, 200, {
        self: c.url.toString(),
        maxResults,
        startAt,
        total: SANDBOX_RECORDS,
        isLast,
        values: range(SANDBOX_RECORDS).slice(startAt, startAt + maxResults).map((i) => ({ id: String(20000 + i), key: `P${i}`, name: `Project ${i}`, projectTypeKey: "software", simplified: false, style: "classic" })),
      });
    }
    default: {
      // getProject by key or id: the sandbox's projects P1…Pn (20001…); anything else 404, as Jira answers
      const p = /^\/rest\/api\/3\/project\/(?:P(\d+)|(2\d{4}))$/.exec(c.rest);
      const i = p ? Number(p[1] ?? Number(p[2]) - 20000) : 0;
      if (i >= 1 && i <= SANDBOX_RECORDS) return send(c.res, 200, { self: c.url.toString(), id: String(20000 + i), key: `P${i}`, name: `Project ${i}`, projectTypeKey: "software", simplified: false, style: "classic" });
      return send(c.res, 404, { errorMessages: ["No project could be found with key '" + (c.rest.split("/").pop() ?? "") + "'."], errors: {} });
    }
  }
}

function zendesk(c: Ctx): void {
  if (!c.authorized) return send(c.res, 401, { error: "Couldn't authenticate you" });
  const list = (key: string, path: string, make: (i: number) => Record<string, unknown>) => {
    const page = Math.max(1, num(c.url.searchParams.get("page"), 1));
    const perPage = pageSize(c.url.searchParams.get("per_page"), 100);
    const pageUrl = (p: number) => `${c.origin}/zendesk/api/v2/${path}?page=${p}&per_page=${perPage}`;
    const items = range(SANDBOX_RECORDS).slice((page - 1) * perPage, page * perPage).map(make);
    const hasNext = page * perPage < SANDBOX_RECORDS;
    send(c.res, 200, { [key]: items, next_page: hasNext ? pageUrl(page + 1) : null, previous_page: page > 1 ? pageUrl(page - 1) : null, count: SANDBOX_RECORDS });
  };
  switch (c.rest) {
    case "/users/me.json":
      return send(c.res, 200, { user: { id: 1, url: `${c.origin}/zendesk/api/v2/users/1.json`, name: "AAM Bot", email: "aam-bot@example.com", role: "admin", active: true, created_at: day(0) } });
    case "/tickets.json":
      return list("tickets", "tickets.json", (i) => ({ id: i, url: `${c.origin}/zendesk/api/v2/tickets/${i}.json`, subject: `Ticket ${i}`, status: ["new", "open", "solved"][i % 3], priority: ["low", "normal", "high", "urgent"][i % 4], requester_id: 100 + i, created_at: day(i), updated_at: day(i + 1), tags: ["sandbox"] }));
    case "/users.json":
      return list("users", "users.json", (i) => ({ id: 100 + i, name: `User ${i}`, email: `user${i}@example.com`, role: "end-user", active: true, created_at: day(i) }));
    default:
      return send(c.res, 404, { error: "InvalidEndpoint", description: "Not found" });
  }
}

function openapiSpec(origin: string): Record<string, unknown> {
  const page = { name: "limit", in: "query", required: false, schema: { type: "integer", maximum: SANDBOX_PAGE_CAP } };
  return {
    openapi: "3.0.3",
    info: { title: "Sandbox Inventory API", version: "1.0.0" },
    servers: [{ url: `${origin}/openapi/v1` }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } },
      schemas: {
        Item: {
          type: "object",
          required: ["id", "name"],
          properties: { id: { type: "integer" }, name: { type: "string" }, price: { type: "number", nullable: true }, created_at: { type: "string", format: "date-time" }, tags: { type: "array", items: { type: "string" } } },
        },
        User: { type: "object", properties: { id: { type: "string" }, email: { type: "string", format: "email" }, active: { type: "boolean" } } },
        ItemPage: { type: "object", properties: { data: { type: "array", items: { $ref: "#/components/schemas/Item" } }, next: { type: "string", nullable: true } } },
      },
    },
    security: [{ bearerAuth: [] }],
    paths: {
      "/items": {
        get: { operationId: "listItems", parameters: [page], responses: { "200": { description: "items", content: { "application/json": { schema: { $ref: "#/components/schemas/ItemPage" } } } } } },
        post: { operationId: "createItem", responses: { "201": { description: "created" } } },
      },
      "/items/{id}": {
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }],
        get: { operationId: "getItem", responses: { "200": { description: "one", content: { "application/json": { schema: { $ref: "#/components/schemas/Item" } } } } } },
        delete: { operationId: "deleteItem", responses: { "204": { description: "gone" } } },
      },
      "/users": {
        get: { operationId: "listUsers", responses: { "200": { description: "users", content: { "application/json": { schema: { type: "array", items: { $ref: "#/components/schemas/User" } } } } } } },
      },
      "/reports": {
        get: { operationId: "getReport", parameters: [{ name: "from", in: "query", required: true, schema: { type: "string", format: "date" } }], responses: { "200": { description: "report" } } },
      },
    },
  };
}

function openapi(c: Ctx): void {
  // the documents themselves are public, like most published specs
  if (c.rest === "/openapi.json") return send(c.res, 200, openapiSpec(c.origin));
  if (c.rest === "/openapi.yaml") {
    const text = toYaml(openapiSpec(c.origin));
    c.res.writeHead(200, { "content-type": "application/yaml", "content-length": String(Buffer.byteLength(text)) });
    return void c.res.end(text);
  }
  if (!c.authorized) return send(c.res, 401, { error: "unauthorized" });
  if (c.req.method !== "GET") return send(c.res, 405, { error: "method not allowed" });
  if (c.rest === "/v1/items") {
    const limit = pageSize(c.url.searchParams.get("limit"), SANDBOX_PAGE_CAP);
    return send(c.res, 200, {
      data: range(SANDBOX_RECORDS).slice(0, limit).map((i) => ({ id: i, name: `Item ${i}`, price: i % 3 ? 9.5 * i : null, created_at: day(i), tags: ["a"] })),
      next: null,
    });
  }
  if (c.rest === "/v1/users") return send(c.res, 200, range(SANDBOX_RECORDS).map((i) => ({ id: `u${i}`, email: `u${i}@example.com`, active: true })));
  return send(c.res, 404, { error: "not found" });
}

const HANDLERS: Record<SandboxVendor, (c: Ctx) => void> = { salesforce, slack, github, jira, zendesk, openapi };

// ---------------------------------------------------------------- server

export async function startHttpSandbox(options: HttpSandboxOptions = {}): Promise<HttpSandbox> {
  const token = options.token ?? SANDBOX_TOKEN;
  const slowMs = options.slowMs ?? 3_000;
  const hugeBytes = options.hugeBytes ?? 4 * 1024 * 1024;
  const retryAfter = options.retryAfterSeconds ?? 1;
  const acceptToken = options.acceptToken ?? acceptorFromEnv();
  const isAuthorized = async (header: string | undefined): Promise<boolean> => {
    if (header === `Bearer ${token}`) return true;
    const m = acceptToken && header ? /^Bearer ([\x21-\x7e]{1,4096})$/.exec(header) : null;
    if (!m) return false;
    try {
      return (await acceptToken!(m[1]!)) === true;
    } catch {
      return false;
    }
  };
  const modes = new Map<SandboxVendor, SandboxMode>();
  const log: SandboxRequest[] = [];
  const violations: SandboxContractViolation[] = [];
  const sockets = new Set<import("node:net").Socket>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const origin = `http://${req.headers.host ?? "127.0.0.1"}`;
      const url = new URL(req.url ?? "/", origin);
      const vendor = SANDBOX_VENDORS.find((v) => url.pathname === BASE_PATHS[v] || url.pathname.startsWith(`${BASE_PATHS[v]}/`));
      const authorized = await isAuthorized(req.headers.authorization);
      log.push({ vendor: vendor ?? "unknown", method: req.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams), authorized });
      if (!vendor) return send(res, 404, { error: "no such sandbox vendor" });
      if (options.contractGuard) {
        const guard = options.contractGuard;
        const rest = url.pathname.slice(BASE_PATHS[vendor].length) || "/";
        guards.set(res, (status, body) => {
          const problems = guard({ vendor, method: req.method ?? "GET", path: rest, status, body });
          if (problems.length) violations.push({ vendor, method: req.method ?? "GET", path: rest, status, problems });
          return problems;
        });
      }
      const c: Ctx = { req, res, url, origin, rest: url.pathname.slice(BASE_PATHS[vendor].length) || "/", authorized, body: Buffer.concat(chunks).toString("utf8") };
      const mode = modes.get(vendor) ?? "ok";
      switch (mode) {
        case "unauthorized":
          c.authorized = false;
          return HANDLERS[vendor](c);
        case "rate_limited":
          return send(res, 429, vendor === "slack" ? { ok: false, error: "ratelimited" } : { message: "API rate limit exceeded" }, { "retry-after": String(retryAfter) });
        case "error":
          return send(res, 500, { message: "Internal Server Error" });
        case "slow": {
          const t = setTimeout(() => HANDLERS[vendor](c), slowMs);
          res.on("close", () => clearTimeout(t));
          return;
        }
        case "huge": {
          res.writeHead(200, { "content-type": "application/json" });
          const row = JSON.stringify({ id: 0, filler: "x".repeat(1000) });
          let sent = 0;
          res.write('{"items":[');
          const pump = () => {
            while (sent < hugeBytes) {
              if (res.destroyed) return;
              sent += row.length + 1;
              if (!res.write(`${row},`)) return void res.once("drain", pump);
            }
            res.end(`${row}]}`);
          };
          return pump();
        }
        default:
          return HANDLERS[vendor](c);
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://${options.host ?? "127.0.0.1"}:${port}`;

  return {
    baseUrl,
    token,
    urlFor: (vendor) => `${baseUrl}${BASE_PATHS[vendor]}`,
    setMode: (vendor, mode) => void modes.set(vendor, mode),
    get requests() {
      return log;
    },
    count(filter = {}) {
      return log.filter(
        (r) =>
          (filter.vendor === undefined || r.vendor === filter.vendor) &&
          (filter.method === undefined || r.method === filter.method) &&
          (filter.pathIncludes === undefined || r.path.includes(filter.pathIncludes)),
      ).length;
    },
    resetLog: () => void log.splice(0, log.length),
    get contractViolations() {
      return violations;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
