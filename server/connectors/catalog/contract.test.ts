/**
 * Contract tests: every catalog entry that has a vendor-published API description
 * (../shared/vendor-specs, derived into ./contracts/*.json by `npm run contracts:derive`) is
 * checked against it. The real REST driver runs against a recording SafeHttp (no network): its
 * health request and every stream's first and next page must each be an operation of the
 * description (method, path template, declared query parameters, required ones present, JSON body
 * shape); the scopes each auth mode asks for must cover what every called operation requires where
 * the description says; and the HTTP sandbox's stand-ins, guarded by the same contracts, must
 * answer only what the vendor's response schema allows. Reads only the committed fixtures.
 */
import { ANY_AUTH_SECRET, exampleConfigOf } from "./test-entry-context";
import { testEnv } from "../../../tests/helpers/env";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRestDriver } from "../drivers/rest";
import { S3_ALLOWED_COMMANDS } from "../drivers/s3";
import { type SafeHttp, type SafeRequest, createSafeHttp } from "../safe-mode/http";
import { LOOPBACK_APPROVED } from "../safe-mode/test-destinations";
import { makePolicy } from "../safe-mode/policy";
import { type HttpSandbox, type SandboxVendor, startHttpSandbox } from "../sandbox/http-sandbox";
import type { ConnectorContext } from "../types";
import { CATALOG } from ".";
import { type CatalogEntry, type CatalogStream } from "./schema";
import {
  type Contract,
  type WireRequest,
  checkRequest,
  checkResponse,
  contractSourceTypes,
  findOperation,
  loadContract,
  missingScopes,
  sandboxContractGuard,
  schemaHasPath,
} from "./contracts";
import { KNOWN_GAPS, PATH_QUIRKS, type Finding, isKnownGap } from "./contracts/known-gaps";

/** Entries whose vendor publishes a description (vendor-specs/README.md); s3_compat is checked against S3's. */
const DESCRIBED = [
  "gworkspace_drive", "m365_sharepoint", "slack", "zoom", "box", "dropbox", "confluence", "jira", "github", "okta", "entra",
  "aws_org", "azure_sub", "gcp_org", "s3", "s3_compat", "datadog", "snowflake", "bigquery", "zendesk", "pagerduty",
];
const SCHEMA_KEYWORDS = new Set([
  "type", "properties", "items", "additionalProperties", "required", "enum", "const", "allOf", "anyOf", "oneOf", "not", "format", "minimum", "maximum",
  "minItems", "maxItems", "minLength", "maxLength", "pattern", "$ref", "patternProperties", "$defs",
]);
const OPERATION_KEYS = new Set(["id", "method", "path", "params", "fixedQuery", "target", "body", "responses", "scopes"]);
const contractOf = (sourceType: string): Contract => loadContract(sourceType === "s3_compat" ? "s3" : sourceType);

// ---------------------------------------------------------------- capturing what the driver sends

type Captured = WireRequest & { label: string; vendorQuery: boolean; url: string };

const SECRET = ANY_AUTH_SECRET;
const configOf = exampleConfigOf;

function ctxFor(e: CatalogEntry, config: Record<string, unknown> = configOf(e)): ConnectorContext {
  return {
    connectionId: `contract-${e.sourceType}`,
    sourceType: e.sourceType,
    resourceIds: ["r1"],
    config,
    secret: SECRET,
    policy: makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 2_000 }),
    destinations: LOOPBACK_APPROVED,
  };
}

function wire(req: Pick<SafeRequest, "method" | "url" | "headers" | "body">, path = new URL(req.url).pathname): WireRequest {
  const u = new URL(req.url);
  let body: unknown;
  if (typeof req.body === "string") {
    try {
      body = JSON.parse(req.body);
    } catch {
      body = req.body;
    }
  }
  return { method: req.method, path, query: [...u.searchParams.entries()], headers: req.headers ?? {}, ...(req.body !== undefined ? { body } : {}) };
}

/**
 * The vendor's continuation link, in the form its documentation gives (the driver follows it
 * verbatim): GitHub/Okta Link headers, Graph/Azure absolute next links, Confluence's relative
 * `_links.next`, Zendesk's absolute `next_page`.
 */
function vendorNextLink(sourceType: string, url: URL): string {
  const u = new URL(url);
  switch (sourceType) {
    case "github":
      u.searchParams.set("page", "2");
      return u.toString();
    case "okta":
      u.searchParams.set("after", "00u2");
      return u.toString();
    case "confluence":
      u.searchParams.set("cursor", "c2");
      return `${u.pathname}${u.search}`;
    case "zendesk":
      u.searchParams.set("page", "2");
      return u.toString();
    default:
      u.searchParams.set("$skiptoken", "s2");
      return u.toString();
  }
}

/** A page that gives the driver one record and, on the first page, the stream's "more" signal. */
function pageFor(e: CatalogEntry, s: CatalogStream, first: boolean, url: URL): { body: unknown; headers: Record<string, string> } {
  const records = [{ id: "1" }];
  const headers: Record<string, string> = {};
  let body: unknown = records;
  const set = (path: readonly string[], v: unknown) => {
    if (path.length === 0) return void (body = v);
    if (typeof body !== "object" || body === null || Array.isArray(body)) body = {};
    let cur = body as Record<string, unknown>;
    for (const k of path.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
    cur[path[path.length - 1]!] = v;
  };
  set(s.recordSelector, records);
  const p = s.pagination;
  switch (p.type) {
    case "cursor":
      set(p.cursorPath, first ? "c2" : "");
      if (p.hasMorePath) set(p.hasMorePath, first);
      break;
    case "page_token":
      if (first) set(p.tokenPath, "t2");
      break;
    case "link_header":
      if (first) headers.link = `<${vendorNextLink(e.sourceType, url)}>; rel="next"`;
      break;
    case "next_url":
      if (first) set(p.nextPath, vendorNextLink(e.sourceType, url));
      break;
    case "offset":
      if (p.hasMorePath) set(p.hasMorePath, first);
      if (p.isLastPath) set(p.isLastPath, !first);
      if (p.totalPath) set(p.totalPath, first ? 1000 : 2);
      break;
    case "page_number":
      if (!first) set(s.recordSelector, []);
      break;
  }
  return { body, headers };
}

/** The health answer: the vendor's documented identifying fields the entry checks (health.expect), nothing more. */
function healthBody(e: CatalogEntry): unknown {
  let body: unknown = {};
  for (const x of e.health?.expect ?? []) {
    const v = x.equals ?? { string: "x", number: 1, boolean: true, object: {}, array: [] }[x.type];
    if (x.path.length === 0) body = v;
    else {
      let cur = body as Record<string, unknown>;
      for (const k of x.path.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
      cur[x.path[x.path.length - 1]!] = v;
    }
  }
  return body;
}

function recordingHttp(e: CatalogEntry, log: Captured[], state: { stream?: CatalogStream; page: number; label: string; vendorQuery: boolean }): SafeHttp {
  return {
    breakerState: () => "closed",
    async fetch(_ctx, req) {
      const url = new URL(req.url);
      log.push({ ...wire(req), label: state.label, vendorQuery: state.vendorQuery, url: req.url });
      const page = state.stream ? pageFor(e, state.stream, state.page === 0, url) : { body: healthBody(e), headers: {} };
      // a next link came from this "vendor": the following request's query is the vendor's, not the driver's
      state.vendorQuery = !!state.stream && state.page === 0 && (state.stream.pagination.type === "link_header" || state.stream.pagination.type === "next_url");
      state.page++;
      state.label = state.stream ? `${state.stream.name} page ${state.page + 1}` : state.label;
      const text = JSON.stringify(page.body);
      return {
        ok: true,
        value: { status: 200, url: req.url, headers: { "content-type": "application/json", ...page.headers }, body: Buffer.from(text), text: () => text, json: () => JSON.parse(text) },
      };
    },
  };
}

/** Health, then each stream's first and next page, as the real driver sends them. */
async function capture(e: CatalogEntry): Promise<Captured[]> {
  const log: Captured[] = [];
  const state: { stream?: CatalogStream; page: number; label: string; vendorQuery: boolean } = { page: 0, label: "health", vendorQuery: false };
  const driver = createRestDriver(recordingHttp(e, log, state));
  const ctx = ctxFor(e);
  const h = await driver.healthCheck(ctx);
  expect(h, `${e.sourceType} health`).toMatchObject({ ok: true });
  for (const s of e.streams) {
    Object.assign(state, { stream: s, page: 0, label: `${s.name} page 1`, vendorQuery: false });
    const r = await driver.readStream(ctx, s.name, 5);
    expect(r, `${e.sourceType} ${s.name}`).toMatchObject({ ok: true });
  }
  return log;
}

const pathOf = (sourceType: string, path: string) => PATH_QUIRKS[sourceType]?.(path) ?? path;

function requestFindings(e: CatalogEntry, c: Contract, reqs: Captured[]): Finding[] {
  const out: Finding[] = [];
  for (const r of reqs) {
    const res = checkRequest(c, { ...r, path: pathOf(e.sourceType, r.path) }, { vendorQuery: r.vendorQuery });
    for (const p of res.problems) out.push({ sourceType: e.sourceType, check: "request", message: `${r.label}: ${p}` });
  }
  return out;
}

/** The stream's record selector and pagination fields are where the operation's response schema has them. */
function selectorFindings(e: CatalogEntry, c: Contract, reqs: Captured[]): Finding[] {
  const out: Finding[] = [];
  for (const s of e.streams) {
    const r = reqs.find((x) => x.label === `${s.name} page 1`);
    const op = r && findOperation(c, { ...r, path: pathOf(e.sourceType, r.path) });
    if (!op) continue;
    const schema = Object.entries(op.responses).find(([k]) => k.startsWith("2"))?.[1] ?? null;
    const p = s.pagination;
    const want: [string, readonly string[], string | undefined][] = [["recordSelector", s.recordSelector, "array"]];
    if (s.columnsPath) want.push(["columnsPath", s.columnsPath, "array"]);
    if (p.type === "cursor") want.push(["cursorPath", p.cursorPath, "string"], ...(p.hasMorePath ? [["hasMorePath", p.hasMorePath, "boolean"] as [string, readonly string[], string]] : []));
    if (p.type === "page_token") want.push(["tokenPath", p.tokenPath, "string"]);
    if (p.type === "next_url") want.push(["nextPath", p.nextPath, "string"]);
    if (p.type === "offset") {
      if (p.hasMorePath) want.push(["hasMorePath", p.hasMorePath, "boolean"]);
      if (p.isLastPath) want.push(["isLastPath", p.isLastPath, "boolean"]);
      if (p.totalPath) want.push(["totalPath", p.totalPath, "integer"]);
    }
    for (const [what, path, type] of want) {
      if (schemaHasPath(c, schema, path, type) === "missing") out.push({ sourceType: e.sourceType, check: "request", message: `${s.name}: ${what} ${JSON.stringify(path)} (${type}) is not in ${op.id}'s response schema` });
    }
  }
  return out;
}

function scopeFindings(e: CatalogEntry, c: Contract, reqs: Captured[]): Finding[] {
  const out: Finding[] = [];
  for (const m of e.authModes) {
    if (m.type !== "oauth2" && m.type !== "service_account") continue;
    for (const r of reqs) {
      const op = findOperation(c, { ...r, path: pathOf(e.sourceType, r.path) });
      const miss = op && missingScopes(op, m.scopes);
      if (miss) out.push({ sourceType: e.sourceType, check: "scope", message: `${m.type}${m.type === "service_account" ? ` ${m.format}` : ""} [${m.scopes.join(" ")}]: ${miss}` });
    }
  }
  return out;
}

// ---------------------------------------------------------------- the tests

const REST_DESCRIBED = DESCRIBED.filter((t) => CATALOG[t]?.driver === "rest");
const findings: Finding[] = [];
const captured = new Map<string, Captured[]>();

describe("vendor contracts: fixtures", () => {
  it("exist for every entry with a vendor description, with their source checksums and licence", () => {
    expect(contractSourceTypes()).toEqual([...DESCRIBED.filter((t) => t !== "s3_compat")].sort());
    for (const t of contractSourceTypes()) {
      const c = loadContract(t);
      expect(c.sources.length, t).toBeGreaterThan(0);
      for (const s of c.sources) expect(s.sha256, `${t} ${s.file}`).toMatch(/^[0-9a-f]{64}$/);
      expect(c.licence, t).toBeTruthy();
      expect(c.operations.length, t).toBeGreaterThan(0);
      // facts only: every schema keyword is a validation keyword (no description, example, x-… prose)
      const stray = new Set<string>();
      const walk = (s: unknown): void => {
        if (!s || typeof s !== "object") return;
        if (Array.isArray(s)) return s.forEach(walk);
        for (const [k, v] of Object.entries(s)) {
          if (!SCHEMA_KEYWORDS.has(k)) stray.add(k);
          if (k === "properties" || k === "patternProperties" || k === "$defs") Object.values(v as object).forEach(walk);
          else if (k !== "enum" && k !== "required" && k !== "const") walk(v);
        }
      };
      for (const op of c.operations) {
        expect(Object.keys(op).every((k) => OPERATION_KEYS.has(k)), `${t} ${op.id}`).toBe(true);
        walk(op.body);
        Object.values(op.responses).forEach(walk);
      }
      walk({ $defs: c.$defs });
      expect([...stray], t).toEqual([]);
    }
  });
});

describe.each(REST_DESCRIBED)("vendor contract: %s", (sourceType) => {
  const e = CATALOG[sourceType]!;
  const c = contractOf(sourceType);

  it("sends only requests the vendor's description has (method, path, query, body)", async () => {
    const reqs = await capture(e);
    captured.set(sourceType, reqs);
    expect(reqs.length).toBeGreaterThanOrEqual(1 + e.streams.length);
    const f = [...requestFindings(e, c, reqs), ...selectorFindings(e, c, reqs)];
    findings.push(...f);
    expect(f.filter((x) => !isKnownGap(x)).map((x) => x.message)).toEqual([]);
  });

  it("asks for the scopes every called operation requires (where the description states them)", async () => {
    const reqs = captured.get(sourceType) ?? (await capture(e));
    const f = scopeFindings(e, c, reqs);
    findings.push(...f);
    expect(f.filter((x) => !isKnownGap(x)).map((x) => x.message)).toEqual([]);
  });
});

describe("vendor contract: s3 / s3_compat (AWS SDK commands)", () => {
  it("every command the S3 driver may send is a GET/HEAD operation of the S3 model, and the IAM actions cover them", () => {
    const c = loadContract("s3");
    const actionFor: Record<string, string> = { ListBuckets: "s3:ListAllMyBuckets", ListObjectsV2: "s3:ListBucket", HeadBucket: "s3:ListBucket", HeadObject: "s3:GetObject", GetObject: "s3:GetObject" };
    for (const cmd of S3_ALLOWED_COMMANDS) {
      const name = cmd.replace(/Command$/, "");
      const op = c.operations.find((o) => o.id === name);
      expect(op, name).toBeDefined();
      expect(["GET", "HEAD"], name).toContain(op!.method);
      for (const t of ["s3", "s3_compat"]) {
        const m = CATALOG[t]!.authModes.find((a) => a.type === "aws_sigv4");
        expect(m && m.type === "aws_sigv4" ? m.actions : [], `${t} ${name}`).toContain(actionFor[name]);
      }
    }
    // ListObjectsV2 is GET /{Bucket}?list-type=2
    expect(checkRequest(c, { method: "GET", path: "/bucket-a", query: [["list-type", "2"], ["prefix", "p/"], ["max-keys", "5"]], headers: {} }).problems).toEqual([]);
  });
});

// ---------------------------------------------------------------- stand-ins

const SANDBOXED: { sourceType: string; vendor: SandboxVendor }[] = [
  { sourceType: "slack", vendor: "slack" },
  { sourceType: "github", vendor: "github" },
  { sourceType: "jira", vendor: "jira" },
  { sourceType: "zendesk", vendor: "zendesk" },
];

describe("stand-ins answer only what the vendor describes", () => {
  let sb: HttpSandbox;
  let guarded: HttpSandbox;
  beforeAll(async () => {
    sb = await startHttpSandbox();
    guarded = await startHttpSandbox({ contractGuard: sandboxContractGuard() });
  });
  afterAll(async () => {
    await sb.close();
    await guarded.close();
  });

  it.each(SANDBOXED)("$sourceType: each answer to the driver's requests validates against the response schema", async ({ sourceType, vendor }) => {
    const e = CATALOG[sourceType]!;
    const c = contractOf(sourceType);
    const real = createSafeHttp({ retries: 0 });
    const prefix = new URL(sb.urlFor(vendor)).pathname;
    const basePath = new URL(e.baseUrl!.replace(/\{\{\s*config\.\w+\s*\}\}/g, "x")).pathname.replace(/\/+$/, "");
    const problems: Finding[] = [];
    let checked = 0;
    const http: SafeHttp = {
      breakerState: real.breakerState,
      async fetch(ctx, req) {
        const res = await real.fetch(ctx, req);
        if (!res.ok) return res;
        const u = new URL(req.url);
        const path = pathOf(sourceType, basePath + u.pathname.slice(prefix.length));
        const w = wire(req, path);
        const vendorQuery = u.searchParams.has("page") && sourceType !== "jira"; // GitHub Link / Zendesk next_page
        const r = checkRequest(c, w, { vendorQuery });
        problems.push(...r.problems.map((message) => ({ sourceType, check: "request" as const, message })));
        if (r.op) {
          problems.push(...checkResponse(c, r.op, res.value.status, res.value.json()).map((message) => ({ sourceType, check: "response" as const, message })));
          checked++;
        }
        return res;
      },
    };
    const driver = createRestDriver(http);
    const ctx = { ...ctxFor(e, { ...configOf(e), base_url: sb.urlFor(vendor) }), secret: { token: sb.token } };
    expect(await driver.healthCheck(ctx)).toMatchObject({ ok: true });
    for (const s of e.streams) expect(await driver.readStream(ctx, s.name, 15), s.name).toMatchObject({ ok: true });
    expect(checked).toBeGreaterThanOrEqual(1 + 2 * e.streams.length);
    expect(problems.filter((f) => !isKnownGap(f)).map((f) => f.message)).toEqual([]);
  });

  it.each(SANDBOXED)("$sourceType: the contract-guarded sandbox serves the driver unchanged", async ({ sourceType, vendor }) => {
    const e = CATALOG[sourceType]!;
    const driver = createRestDriver(createSafeHttp({ retries: 0 }));
    const ctx = { ...ctxFor(e, { ...configOf(e), base_url: guarded.urlFor(vendor) }), secret: { token: guarded.token } };
    expect(await driver.healthCheck(ctx)).toMatchObject({ ok: true });
    for (const s of e.streams) expect(await driver.readStream(ctx, s.name, 15), s.name).toMatchObject({ ok: true });
    expect(guarded.contractViolations.filter((v) => v.vendor === vendor)).toEqual([]);
  });
});

// ---------------------------------------------------------------- each check can fail

describe("contract checks fail when a request or a stand-in leaves the description", () => {
  it("a made-up query parameter, a missing required one, an unknown path or a wrong method is reported", () => {
    const slack = loadContract("slack");
    const ok = { method: "GET", path: "/api/conversations.list", query: [["limit", "5"]] as [string, string][], headers: {} };
    expect(checkRequest(slack, ok).problems).toEqual([]);
    expect(checkRequest(slack, { ...ok, query: [["limit", "5"], ["made_up", "1"]] }).problems).toEqual(["conversations_list: query parameter made_up is not declared"]);
    expect(checkRequest(slack, { ...ok, path: "/api/conversations.lst" }).problems[0]).toMatch(/is no operation/);
    expect(checkRequest(slack, { ...ok, method: "DELETE" }).problems[0]).toMatch(/is no operation/);
    const azure = loadContract("azure_sub");
    expect(checkRequest(azure, { method: "GET", path: "/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups", query: [], headers: {} }).problems).toEqual([
      "ResourceGroups_List: required query parameter api-version is missing",
    ]);
  });

  it("a JSON body field the operation does not take, or a wrong X-Amz-Target, is reported", () => {
    const dropbox = loadContract("dropbox");
    const req = { method: "POST", path: "/2/files/list_folder", query: [], headers: {}, body: { path: "", recursive: false } };
    expect(checkRequest(dropbox, req).problems).toEqual([]);
    expect(checkRequest(dropbox, { ...req, body: { path: "", made_up: true } }).problems[0]).toMatch(/request body: .*additional properties \(made_up\)/);
    const orgs = loadContract("aws_org");
    const t = (target: string) => ({ method: "POST", path: "/", query: [], headers: { "X-Amz-Target": target }, body: {} });
    expect(checkRequest(orgs, t("AWSOrganizationsV20161128.ListAccounts")).problems).toEqual([]);
    expect(checkRequest(orgs, t("AWSOrganizationsV20161128.ListAccountz")).problems[0]).toMatch(/is no operation/);
    expect(checkRequest(orgs, { ...t("AWSOrganizationsV20161128.ListAccounts"), body: { MaxResults: "20" } }).problems[0]).toMatch(/MaxResults must be integer/);
  });

  it("a record selector or cursor the response schema does not have is reported", () => {
    const slack = loadContract("slack");
    const op = findOperation(slack, { method: "GET", path: "/api/users.list", headers: {} })!;
    expect(schemaHasPath(slack, op.responses["200"]!, ["members"], "array")).toBe("ok");
    const zd = loadContract("zendesk");
    const me = findOperation(zd, { method: "GET", path: "/api/v2/users/me", headers: {} })!;
    expect(schemaHasPath(zd, me.responses["200"]!, ["user", "id"], "integer")).toBe("ok");
    expect(schemaHasPath(zd, me.responses["200"]!, ["user", "id"], "boolean")).toBe("missing");
    expect(schemaHasPath(slack, op.responses["200"]!, ["users"], "array")).toBe("missing");
    expect(schemaHasPath(slack, op.responses["200"]!, ["cache_ts"], "array")).toBe("missing");
  });

  it("a scope the operation needs and the entry lacks is reported", () => {
    const drive = loadContract("gworkspace_drive");
    const op = findOperation(drive, { method: "GET", path: "/drive/v3/drives", headers: {} })!;
    expect(missingScopes(op, ["https://www.googleapis.com/auth/drive.metadata.readonly"])).toMatch(/drive\.drives\.list needs .*drive\.readonly/);
    expect(missingScopes(op, ["https://www.googleapis.com/auth/drive.readonly"])).toBeUndefined();
    const pd = loadContract("pagerduty");
    expect(missingScopes(findOperation(pd, { method: "GET", path: "/abilities", headers: {} })!, ["services.read"])).toMatch(/abilities\.read/);
  });

  it("a made-up response field type, or a field the vendor's closed schema does not have, fails validation", () => {
    const slack = loadContract("slack");
    const op = findOperation(slack, { method: "GET", path: "/api/auth.test", headers: {} })!;
    const good = { ok: true, url: "https://x.slack.com/", team: "T", user: "u", team_id: "T0001", user_id: "U0001" };
    expect(checkResponse(slack, op, 200, good)).toEqual([]);
    expect(checkResponse(slack, op, 200, { ...good, team_id: 42 })[0]).toMatch(/team_id must be string/);
    expect(checkResponse(slack, op, 200, { ...good, made_up: 1 })[0]).toMatch(/additional properties \(made_up\)/);
    const gh = loadContract("github");
    const user = findOperation(gh, { method: "GET", path: "/orgs/acme/members", headers: {} })!;
    expect(checkResponse(gh, user, 200, [{ login: "x" }])[0]).toMatch(/must have required property/);
  });

  it("the contract-guarded sandbox refuses to send an answer the vendor's schema does not allow", () => {
    const guard = sandboxContractGuard();
    expect(guard({ vendor: "slack", method: "GET", path: "/auth.test", status: 200, body: { ok: true, url: "u", team: "t", user: "u", team_id: "T0001", user_id: "U0001" } })).toEqual([]);
    expect(guard({ vendor: "slack", method: "GET", path: "/auth.test", status: 200, body: { ok: "yes" } }).length).toBeGreaterThan(0);
    // salesforce/openapi have no description: nothing to check against
    expect(guard({ vendor: "salesforce", method: "GET", path: "/services/data", status: 200, body: [] })).toEqual([]);
  });
});

describe("coverage", () => {
  it("every captured request matched an operation", () => {
    const rows: string[] = [];
    for (const [t, reqs] of captured) {
      const c = contractOf(t);
      for (const r of reqs) {
        const op = findOperation(c, { ...r, path: pathOf(t, r.path) });
        rows.push(`${t}\t${r.label}\t${r.method} ${r.path}?${new URLSearchParams(r.query)}\t${op?.id ?? "-"}${r.body !== undefined ? `\tbody=${JSON.stringify(r.body)}` : ""}`);
      }
    }
    if (testEnv.CONTRACT_REPORT) console.log(rows.join("\n"));
    expect(rows.every((r) => !r.endsWith("\t-"))).toBe(true);
  });
});

describe("known gaps", () => {
  it("each is still a gap (a fixed one is removed from the list), with a reason", () => {
    for (const g of KNOWN_GAPS) {
      expect(g.reason.length, g.match).toBeGreaterThan(30);
      if (g.check === "response") continue; // checked by the stand-in suite
      expect(findings.some((f) => f.sourceType === g.sourceType && f.check === g.check && f.message.includes(g.match)), `${g.sourceType} ${g.match}`).toBe(true);
    }
  });
});
