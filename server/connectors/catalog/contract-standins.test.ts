/**
 * Description-driven stand-ins (issue 10 item 2): for every catalog entry served by the REST driver
 * whose vendor publishes an API description, the real driver runs health → discover → sample
 * through Safe Mode's HTTP path against a local server that answers only from that vendor's
 * committed contract (sandbox/spec-standin.ts): a request the description does not have is
 * refused, every answer is synthesized from the operation's response schema and validated against
 * it before it is sent. So the driver's handling of the vendor's answers — records path,
 * pagination, health `expect`, named-resource lookups — meets the shape the vendor describes, not a
 * hand-written guess. Where an entry and its description disagree the finding is reported, and
 * only a known gap (contracts/known-gaps.ts, with its reason) is let through.
 */
import { ANY_AUTH_SECRET, exampleConfigOf } from "./test-entry-context";
import { afterEach, describe, expect, it } from "vitest";
import { createRestDriver } from "../drivers/rest";
import { createSafeHttp } from "../safe-mode/http";
import { makePolicy } from "../safe-mode/policy";
import { LOOPBACK_APPROVED } from "../safe-mode/test-destinations";
import { startHttpSandbox } from "../sandbox/http-sandbox";
import { type SpecStandin, startSpecStandin } from "../sandbox/spec-standin";
import type { ConnectorContext } from "../types";
import { CATALOG } from ".";
import { type CatalogEntry } from "./schema";
import { type JsonSchema, checkResponse, contractSourceTypes, findOperation, loadContract, sandboxContractGuard } from "./contracts";
import { type Finding, isKnownGap } from "./contracts/known-gaps";
import { synthesize } from "./contracts/synthesize";

/** The REST entries whose vendor publishes a description (the S3 pair runs through the AWS SDK, contract.test.ts). */
const DESCRIBED_REST = [
  "gworkspace_drive", "m365_sharepoint", "slack", "zoom", "box", "dropbox", "confluence", "jira", "github", "okta", "entra",
  "aws_org", "azure_sub", "gcp_org", "datadog", "snowflake", "bigquery", "zendesk", "pagerduty",
];

const SECRET = ANY_AUTH_SECRET;
const configOf = exampleConfigOf;

function ctxFor(e: CatalogEntry, sb: SpecStandin, config = configOf(e)): ConnectorContext {
  return {
    connectionId: `standin-${e.sourceType}`,
    sourceType: e.sourceType,
    // an entry that looks up intent resource ids (and names none in config) gets one, so its lookup runs against the description
    resourceIds: e.namedResources?.lookup && e.namedResources.configFields.length === 0 ? ["standin-resource"] : [],
    config: { ...config, base_url: sb.baseUrl },
    secret: SECRET,
    policy: makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 5_000 }),
    destinations: LOOPBACK_APPROVED,
  };
}

const tolerateFor = (sourceType: string) => (message: string) => isKnownGap({ sourceType, check: "request", message });
const driver = createRestDriver(createSafeHttp({ retries: 0 }));

let open: SpecStandin[] = [];
async function standin(...args: Parameters<typeof startSpecStandin>): Promise<SpecStandin> {
  const sb = await startSpecStandin(...args);
  open.push(sb);
  return sb;
}
afterEach(async () => {
  await Promise.all(open.map((s) => s.close()));
  open = [];
});

describe("the REST entries with a vendor description", () => {
  it("are all here (a new described REST entry gets a stand-in run)", () => {
    expect(contractSourceTypes().filter((t) => CATALOG[t]?.driver === "rest")).toEqual([...DESCRIBED_REST].sort());
  });
});

describe.each(DESCRIBED_REST)("description-driven stand-in: %s", (sourceType) => {
  const e = CATALOG[sourceType]!;

  it("health → discover → sample through SafeHttp, with pagination followed and nothing outside the description", async () => {
    const config = configOf(e);
    const sb = await standin({ entry: e, config, tolerate: tolerateFor(sourceType) });
    const ctx = ctxFor(e, sb, config);
    const mine: Finding[] = [];

    const h = await driver.healthCheck(ctx);
    expect(h, `${sourceType} health; stand-in: ${sb.violations.join(" | ")}`).toMatchObject({ ok: true });

    const d = await driver.discover(ctx);
    if (!d.ok) throw new Error(`${sourceType} discover: ${d.error.message}; stand-in: ${sb.violations.join(" | ")}`);
    expect(d.value.streams.map((s) => s.name)).toEqual(e.streams.map((s) => s.name));
    for (const r of d.value.resources ?? []) expect(r, `${sourceType} named resource ${r.id}`).toMatchObject({ found: true });

    const smp = await driver.sample(ctx, d.value);
    if (!smp.ok) throw new Error(`${sourceType} sample: ${smp.error.message}; stand-in: ${sb.violations.join(" | ")}`);
    for (const s of e.streams) {
      expect(smp.value.filter((r) => r.stream === s.name).length, `${sourceType} ${s.name} records`).toBeGreaterThanOrEqual(1);
      // inferred fields come from the records the description allows (static ones are the entry's)
      if (!s.fields) expect(d.value.streams.find((x) => x.name === s.name)!.fields.length, `${sourceType} ${s.name} fields`).toBeGreaterThan(0);
      const pages = sb.pages(s.name);
      expect(pages.first, `${sourceType} ${s.name} first pages`).toBeGreaterThanOrEqual(1);
      if (s.pagination.type !== "none" && pages.next === 0) {
        const why = sb.notes.filter((n) => n.startsWith(`${s.name}: `));
        mine.push(...(why.length ? why : [`${s.name}: the ${s.pagination.type} paginator was offered a next page and did not follow it`]).map((message) => ({ sourceType, check: "request" as const, message })));
      }
    }
    if (e.namedResources?.lookup) expect(sb.exchanges.some((x) => x.roles.includes("lookup")), `${sourceType} lookup`).toBe(true);

    mine.push(...sb.violations.map((message) => ({ sourceType, check: "response" as const, message })));
    expect(mine.filter((f) => !isKnownGap(f)).map((f) => f.message)).toEqual([]);
    // every exchange was an operation of the description, answered with a success
    expect(sb.exchanges.filter((x) => !x.op || x.status >= 300).map((x) => `${x.method} ${x.path} ${x.status}`)).toEqual([]);
  });
});

describe("the stand-in refuses what the description does not have", () => {
  it("a request off the description: 404 for no operation, 400 for an undeclared or missing query parameter", async () => {
    const slack = CATALOG.slack!;
    const sb = await standin({ entry: slack });
    const get = (path: string, init?: RequestInit) => fetch(sb.origin + path, { headers: { authorization: "Bearer x" }, ...init });
    expect((await get("/api/conversations.list?limit=2")).status).toBe(200);
    const made = await get("/api/conversations.list?limit=2&made_up=1");
    expect(made.status).toBe(400);
    expect(await made.json()).toEqual({ standin: "refused", problems: ["conversations_list: query parameter made_up is not declared"] });
    expect((await get("/api/conversations.lst")).status).toBe(404);
    expect((await get("/api/conversations.list", { method: "DELETE" })).status).toBe(404);
    const azure = await standin({ entry: CATALOG.azure_sub!, config: configOf(CATALOG.azure_sub!) });
    const noVersion = await fetch(`${azure.origin}/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups`);
    expect(noVersion.status).toBe(400);
    expect(JSON.stringify(await noVersion.json())).toMatch(/required query parameter api-version is missing/);
    expect(sb.violations).toHaveLength(3);
  });

  it("a driver request the description does not have fails the run: Zendesk's per_page, unless its known gap is let through", async () => {
    const zd = CATALOG.zendesk!;
    const strict = await standin({ entry: zd, config: configOf(zd) });
    const r = await driver.readStream(ctxFor(zd, strict), "tickets", 5);
    expect(r.ok).toBe(false);
    expect(strict.exchanges.at(-1)?.status).toBe(400);
    expect(strict.violations.join("\n")).toMatch(/ListTickets: query parameter per_page is not declared/);
    const lenient = await standin({ entry: zd, config: configOf(zd), tolerate: tolerateFor("zendesk") });
    expect(await driver.readStream(ctxFor(zd, lenient), "tickets", 5)).toMatchObject({ ok: true });
    expect(lenient.exchanges.at(-1)?.tolerated).toEqual(["ListTickets: query parameter per_page is not declared"]);
  });

  it("an answer that leaves the response schema — an ill-typed field, or an extra one where the schema is closed — is not sent", async () => {
    const slack = CATALOG.slack!;
    const illTyped = await standin({ entry: slack, tamper: ({ roles, body }) => (roles.includes("health") ? { ...(body as object), team_id: 42 } : body) });
    const h = await driver.healthCheck(ctxFor(slack, illTyped));
    expect(h.ok).toBe(false);
    expect(illTyped.violations.join("\n")).toMatch(/auth_test 200: \/team_id must be string/);
    expect(illTyped.exchanges.at(-1)?.status).toBe(502);

    const extra = await standin({ entry: slack, tamper: ({ roles, body }) => (roles.includes("health") ? { ...(body as object), made_up: 1 } : body) });
    expect((await driver.healthCheck(ctxFor(slack, extra))).ok).toBe(false);
    expect(extra.violations.join("\n")).toMatch(/additional properties \(made_up\)/);

    // records of the wrong shape in a stream answer
    const box = CATALOG.box!;
    const badRecords = await standin({ entry: box, tamper: ({ roles, body }) => (roles.some((r) => r.startsWith("root_items")) ? { ...(body as object), entries: [42] } : body) });
    const d = await driver.discover(ctxFor(box, badRecords));
    expect(d.ok).toBe(false);
    expect(badRecords.violations.join("\n")).toMatch(/the answer leaves the response schema/);
  });

  it("Slack's channels and users are the description's shapes, not any object: a record missing a required field is not sent", async () => {
    const slack = CATALOG.slack!;
    // the description-driven stand-in: channel 1 of the first conversations page without is_general
    const drop = (field: string) => ({ roles, body }: { roles: string[]; body: unknown }) => {
      if (!roles.includes("conversations page 1")) return body;
      const b = body as { channels: Record<string, unknown>[] };
      return { ...b, channels: b.channels.map((ch, i) => (i === 0 ? Object.fromEntries(Object.entries(ch).filter(([k]) => k !== field)) : ch)) };
    };
    const intact = await standin({ entry: slack, tamper: drop("made_up") });
    expect(await driver.readStream(ctxFor(slack, intact), "conversations", 5)).toMatchObject({ ok: true });
    const noGeneral = await standin({ entry: slack, tamper: drop("is_general") });
    expect((await driver.readStream(ctxFor(slack, noGeneral), "conversations", 5)).ok).toBe(false);
    expect(noGeneral.exchanges.at(-1)?.status).toBe(502);
    expect(noGeneral.violations.join("\n")).toMatch(/conversations_list 200: \/channels\/0 must have required property 'is_general'/);

    // the hand-written HTTP sandbox's records, through the contract guard it runs with
    const sb = await startHttpSandbox();
    try {
      const get = async (method: string) => (await fetch(`${sb.urlFor("slack")}/${method}?limit=2`, { headers: { authorization: `Bearer ${sb.token}` } })).json() as Promise<Record<string, unknown>>;
      const guard = sandboxContractGuard();
      const check = (path: string, body: unknown) => guard({ vendor: "slack", method: "GET", path, status: 200, body });
      const channels = await get("conversations.list");
      const users = await get("users.list");
      expect(check("/conversations.list", channels)).toEqual([]);
      expect(check("/users.list", users)).toEqual([]);
      const ch0 = (channels.channels as Record<string, unknown>[])[0]!;
      const u0 = (users.members as Record<string, unknown>[])[0]!;
      const without = (o: Record<string, unknown>, k: string) => Object.fromEntries(Object.entries(o).filter(([x]) => x !== k));
      for (const field of ["is_general", "is_mpim", "is_group", "is_org_shared", "is_im", "name_normalized"]) {
        expect(check("/conversations.list", { ...channels, channels: [without(ch0, field)] }).join("\n"), field).toMatch(new RegExp(`/channels/0 must have required property '${field}'`));
      }
      // any object is no channel, a channel id is no number, a DM-only field is not in a public channel
      expect(check("/conversations.list", { ...channels, channels: [{ made_up: 1 }] })).not.toEqual([]);
      expect(check("/conversations.list", { ...channels, channels: [{ ...ch0, id: 42 }] }).join("\n")).toMatch(/\/channels\/0\/id must be string/);
      expect(check("/conversations.list", { ...channels, channels: [{ ...ch0, is_mpim: "no" }] })).not.toEqual([]);
      for (const field of ["profile", "is_app_user"]) {
        expect(check("/users.list", { ...users, members: [without(u0, field)] }).join("\n"), field).toMatch(new RegExp(`/members/0 must have required property '${field}'`));
      }
      const profile = u0.profile as Record<string, unknown>;
      expect(check("/users.list", { ...users, members: [{ ...u0, profile: without(profile, "display_name") }] }).join("\n")).toMatch(/\/members\/0\/profile must have required property 'display_name'/);
      expect(check("/users.list", { ...users, members: [{ ...u0, tz: 1 }] })).not.toEqual([]);
      expect(check("/users.list", { ...users, members: [{ ...u0, tz: null }] })).toEqual([]);
    } finally {
      await sb.close();
    }
  });

  it("a tampered fixture: the stand-in speaks only the copy's schema, so an entry/description disagreement fails the run, and an answer no instance satisfies is not sent", async () => {
    const box = CATALOG.box!;
    const real = loadContract("box");
    const me = findOperation(real, { method: "GET", path: "/2.0/users/me", headers: {} })!;
    const withMe = (schema: JsonSchema) => ({ ...real, operations: real.operations.map((o) => (o === me ? { ...o, responses: { "200": schema } } : o)) });
    // a description whose user id is an integer: the entry's health `expect` (id: string) is not met
    const intId = await standin({ entry: box, contract: withMe({ type: "object", required: ["id", "type"], properties: { id: { type: "integer" }, type: { enum: ["user"] } } }) });
    const h = await driver.healthCheck(ctxFor(box, intId));
    expect(h.ok).toBe(false);
    expect(h.ok ? "" : h.error.message).toMatch(/id is number, not string/);
    expect(intId.violations).toEqual([]);
    // a schema no answer can satisfy: what the generator makes is refused, not sent
    const none = await standin({ entry: box, contract: withMe({ type: "object", required: ["id"], properties: { id: { type: "string", minLength: 5, maxLength: 2 } } }) });
    expect((await driver.healthCheck(ctxFor(box, none))).ok).toBe(false);
    expect(none.exchanges.at(-1)?.status).toBe(502);
    expect(none.violations.join("\n")).toMatch(/get_users_me 200: \/id must NOT have (more|fewer) than/);
  });

  it("a paginator field the schema has no room for is reported, not invented", async () => {
    const base = CATALOG.slack!;
    const users = base.streams.find((s) => s.name === "users")!;
    const off: CatalogEntry = { ...base, streams: [{ ...users, pagination: { ...users.pagination, cursorPath: ["made_up_cursor"] } as typeof users.pagination }] };
    const sb = await standin({ entry: off });
    const res = await fetch(`${sb.baseUrl}/users.list?limit=2`);
    expect(res.status).toBe(200);
    expect(await res.json()).not.toHaveProperty("made_up_cursor");
    expect(sb.notes).toEqual([`users: cursorPath ["made_up_cursor"] (string) is not in users_list's response schema: the stand-in cannot offer a next page`]);
  });
});

describe("synthesized answers", () => {
  it("are deterministic, validate, and carry the records asked for", () => {
    const c = loadContract("okta");
    const op = findOperation(c, { method: "GET", path: "/api/v1/users", headers: {} })!;
    const a = synthesize(c, op.responses["200"]!, { include: [{ path: [], type: "array" }], records: 3 });
    expect(a).toEqual(synthesize(c, op.responses["200"]!, { include: [{ path: [], type: "array" }], records: 3 }));
    expect(Array.isArray(a) && a.length).toBe(3);
    expect(checkResponse(c, op, 200, a)).toEqual([]);
  });
});
