/**
 * Issue 8 acceptance, HTTP half: for every HTTP config field that names a host, an intent pointing
 * at a local listener (which records every TCP connection and request) is refused — at admission
 * (422, for fields whose format keeps them on the vendor's domains) or at connect time
 * (NETWORK_BLOCKED "Destination not approved", for fields that may name a customer's own host) —
 * and the listener receives nothing. After an admin approves that host:port for the source type
 * (addApprovedDestination, read by the pipeline's real destination loader), the same connection
 * proceeds through the real drivers and the real Safe Mode HTTP path.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { getCatalogEntry } from "../../server/connectors/catalog";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bindConnector } from "../../server/connectors/binding";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";
import type { Db } from "../../server/db/client";
import { getConnectionById, listEvents, markBlockedForRetry } from "../../server/onboarding/connection-repository";
import { createDestinationLoader } from "../../server/onboarding/destination-grant";
import { addApprovedDestination } from "../../server/onboarding/destination-repository";
import { parseConnectionIntent } from "../../server/onboarding/intent-admission";
import { admitIntent, runAttempt, type PipelineDeps } from "../../server/onboarding/pipeline";
import { createTestTenant, ownSecret, testDb } from "../helpers/db";

const TOKEN = "accept-secret-token-9f3b2c";
const SF_TOKEN = JSON.stringify({ access_token: TOKEN });
let db: Db;
let tenantId: string;
let deps: PipelineDeps;
let listener: http.Server;
let port: number;
let origin: string;
const seen = { connections: 0, requests: [] as { method: string; url: string; headers: http.IncomingHttpHeaders }[] };

/** Answers like the vendors do closely enough for a health check, discovery and a tiny sample. */
function respond(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? "/", origin);
  const p = url.pathname;
  const send = (body: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (p.endsWith("/openapi.json")) {
    return send({
      openapi: "3.0.3",
      info: { title: "local", version: "1" },
      servers: [{ url: `${origin}/v1` }],
      paths: { "/items": { get: { operationId: "listItems", responses: { "200": { description: "ok" } } } } },
    });
  }
  if (p.includes("/services/data/")) {
    if (p.endsWith("/sobjects")) return send({ sobjects: [{ name: "Account", queryable: true }] });
    if (p.endsWith("/describe")) return send({ fields: [{ name: "Id", type: "id" }, { name: "Name", type: "string" }] });
    if (p.endsWith("/query")) return send({ done: true, records: [{ attributes: {}, Id: "001", Name: "Acme" }] });
    return send({ DailyApiRequests: { Max: 1, Remaining: 1 } });
  }
  // the vendor's health request answers with the identifying fields the vendor documents (the
  // entry's health.expect): the driver only counts a far side that answers like the vendor
  const entry = current ? getCatalogEntry(current) : undefined;
  const healthPath = entry?.health?.path.replace(/\{\{[^}]+\}\}/g, "");
  if (entry?.health?.expect && healthPath && p.endsWith(healthPath)) return send(identityBody(entry.health.expect));
  return send([{ id: 1, name: "one" }]);
}

/** The smallest body that carries every documented identifying field. */
function identityBody(expects: readonly { path: readonly string[]; type: string; equals?: unknown }[]): unknown {
  const sample = (e: (typeof expects)[number]) =>
    e.equals ?? (e.type === "string" ? "acme" : e.type === "number" ? 1 : e.type === "boolean" ? true : e.type === "array" ? [{ id: "1", name: "one" }] : {});
  if (expects.some((e) => e.path.length === 0)) return sample(expects.find((e) => e.path.length === 0)!);
  const body: Record<string, unknown> = {};
  for (const e of expects) {
    let cur = body;
    e.path.forEach((k, i) => {
      if (i === e.path.length - 1) cur[k] = sample(e);
      else cur = (cur[k] ??= {}) as Record<string, unknown>;
    });
  }
  return body;
}

/** The source type of the case being run (the listener answers its health request like that vendor). */
let current: string | undefined;

beforeAll(async () => {
  db = testDb();
  // an install-wide secret: the operator shares it with every organisation
  process.env.AAM_SECRET_ACCEPT_TOKEN = TOKEN;
  listener = http.createServer((req, res) => {
    seen.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    respond(req, res);
  });
  listener.on("connection", () => seen.connections++);
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  port = (listener.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  deps = {
    db,
    credentials: createCredentialResolver({ db, encryptionKey: parseEncryptionKey("c".repeat(64)) }),
    connectors: bindConnector,
    policy: async () => makePolicy({ requestTimeoutMs: 2_000, ratePerMinute: 60_000 }),
    destinations: createDestinationLoader(db, { ttlMs: 0 }),
  };
});
afterAll(async () => {
  await new Promise((r) => listener.close(r));
  await db.$disconnect();
});
/**
 * A tenant of its own with its own secrets (AAM_SECRET_<TENANT>__<NAME>): an install-wide secret
 * (AAM_SECRET_<NAME>) never goes to an approved destination (the last describe below).
 */
async function newTenant(label: string): Promise<string> {
  const id = await createTestTenant(db, label);
  tenantLocators.set(id, {
    ACCEPT_TOKEN: await ownSecret(db, id, "ACCEPT_TOKEN", TOKEN),
    ACCEPT_SF: await ownSecret(db, id, "ACCEPT_SF", SF_TOKEN),
    ACCEPT_SF_EVIL: await ownSecret(db, id, "ACCEPT_SF_EVIL", JSON.stringify({ access_token: TOKEN, instance_url: origin })),
  });
  return id;
}
const tenantLocators = new Map<string, Record<string, string>>();
/** `env:` locator of this test's tenant's own secret `name` */
const own = (name: string) => tenantLocators.get(tenantId)![name]!;

beforeEach(async () => {
  tenantId = await newTenant("dest");
  seen.connections = 0;
  seen.requests = [];
});

function intentFor(sourceType: string, config: Record<string, unknown>, locator = own("ACCEPT_TOKEN")) {
  return {
    source_type: sourceType,
    resource_ids: ["res-1"],
    scopes_mode: "safe_readonly",
    credential_locator: locator,
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
    owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
    config,
  };
}

async function onboard(raw: unknown): Promise<string> {
  const parsed = parseConnectionIntent(raw);
  if (!parsed.ok) throw new Error(`intent refused: ${JSON.stringify(parsed.issues)}`);
  const a = await admitIntent(db, tenantId, parsed.intent);
  await runAttempt(deps, a.id);
  return a.id;
}

const carriesSecret = () => seen.requests.some((r) => JSON.stringify(r).includes(TOKEN));

/** Fields that name where an HTTP source connects, and admitted only for a customer's own host: the grant decides (the 4th: the tenant's own secret to use). */
const CONNECT_TIME: [string, string, () => Record<string, unknown>, string?][] = [
  ["github", "config.base_url", () => ({ org: "acme", base_url: origin })],
  ["jira", "config.base_url", () => ({ site: "acme.atlassian.net", base_url: origin })],
  ["confluence", "config.base_url", () => ({ site: "acme.atlassian.net", base_url: origin })],
  ["zendesk", "config.base_url", () => ({ subdomain: "acme", base_url: origin })],
  ["datadog", "config.base_url", () => ({ base_url: origin })],
  ["gitlab", "config.base_url", () => ({ base_url: `${origin}/api/v4` })],
  ["okta", "config.base_url", () => ({ domain: "acme.okta.com", base_url: `${origin}/api/v1` })],
  ["slack", "config.base_url", () => ({ base_url: origin })],
  ["pagerduty", "config.base_url", () => ({ base_url: origin })],
  ["salesforce", "config.instance_url", () => ({ instance_url: origin }), "ACCEPT_SF"],
  ["salesforce", "config.base_url", () => ({ base_url: origin }), "ACCEPT_SF"],
  ["openapi", "config.spec_url", () => ({ spec_url: `${origin}/openapi.json` })],
  ["openapi", "config.spec (its servers)", () => ({ spec: JSON.stringify({ openapi: "3.0.3", info: { title: "x", version: "1" }, servers: [{ url: `${origin}/v1` }], paths: { "/items": { get: { responses: { "200": { description: "ok" } } } } } }) })],
  ["openapi", "config.base_url", () => ({ spec: JSON.stringify({ openapi: "3.0.3", info: { title: "x", version: "1" }, paths: { "/items": { get: { responses: { "200": { description: "ok" } } } } } }), base_url: `${origin}/v1` })],
];

describe("a config field naming a customer's own host: NETWORK_BLOCKED until an admin approves it", () => {
  it.each(CONNECT_TIME)("%s %s", async (sourceType, _field, config, locator) => {
    current = sourceType;
    const id = await onboard(intentFor(sourceType, config(), locator ? own(locator) : undefined));
    const blocked = (await getConnectionById(db, id))!;
    expect(blocked.status).toBe("NETWORK_BLOCKED");
    expect(blocked.statusReason).toContain(`Destination not approved: 127.0.0.1:${port}`);
    expect(blocked.blockedDestination).toEqual({ kind: "host", host: "127.0.0.1", port });
    // nothing reached the listener: no TCP connection, so nothing carrying the secret
    expect(seen.connections).toBe(0);
    expect(seen.requests).toEqual([]);

    // an admin approves exactly that host:port for this source type; the same connection proceeds
    await addApprovedDestination(db, tenantId, { kind: "host", pattern: "127.0.0.1", ports: [port], sourceTypes: [sourceType], note: "test" }, { label: "admin@test" });
    expect(await markBlockedForRetry(db, tenantId, "approved 127.0.0.1", [id])).toEqual([id]);
    await runAttempt(deps, id);
    const after = (await getConnectionById(db, id))!;
    expect(after.status, after.statusReason ?? "").not.toBe("NETWORK_BLOCKED");
    expect(after.reachable, after.statusReason ?? "").toBe(true);
    expect((await listEvents(db, id)).some((e) => e.stage === "health_check" && e.outcome === "ok")).toBe(true);
    expect(seen.requests.length).toBeGreaterThan(0);
  });

  it("an approval for another source type, or for another port, does not open the host", async () => {
    await addApprovedDestination(db, tenantId, { kind: "host", pattern: "127.0.0.1", ports: [port], sourceTypes: ["postgres"], note: "other type" }, { label: "admin@test" });
    const id = await onboard(intentFor("github", { org: "acme", base_url: origin }));
    expect((await getConnectionById(db, id))!.status).toBe("NETWORK_BLOCKED");
    tenantId = await newTenant("dest-port");
    await addApprovedDestination(db, tenantId, { kind: "host", pattern: "127.0.0.1", ports: [port + 1], sourceTypes: ["github"], note: "other port" }, { label: "admin@test" });
    const id2 = await onboard(intentFor("github", { org: "acme", base_url: origin }));
    expect((await getConnectionById(db, id2))!.status).toBe("NETWORK_BLOCKED");
    expect(seen.connections).toBe(0);
  });

  it("gitlab config.host (self-managed): NETWORK_BLOCKED with the reason in words until approved", async () => {
    const id = await onboard(intentFor("gitlab", { host: "localhost" }));
    const row = (await getConnectionById(db, id))!;
    expect(row.status).toBe("NETWORK_BLOCKED");
    expect(row.statusReason).toContain("Destination not approved: localhost:443");
    expect(row.blockedDestination).toEqual({ kind: "host", host: "localhost", port: 443 });
    expect(seen.connections).toBe(0);
  });

  it("salesforce: a token response naming a non-Salesforce instance_url is refused even when that host is approved", async () => {
    await addApprovedDestination(db, tenantId, { kind: "host", pattern: "127.0.0.1", ports: [port], sourceTypes: ["salesforce"], note: "test" }, { label: "admin@test" });
    const id = await onboard(intentFor("salesforce", {}, own("ACCEPT_SF_EVIL")));
    const row = (await getConnectionById(db, id))!;
    expect(row.status).toBe("NETWORK_BLOCKED");
    expect(row.statusReason).toContain("is not one of Salesforce's hosts");
    expect(seen.connections).toBe(0);
    expect(carriesSecret()).toBe(false);
  });

  it("a sandbox reference while the sandboxes are not running: NETWORK_BLOCKED in words, nothing sent", async () => {
    for (const [sourceType, config] of [
      ["github", { org: "acme", base_url: "sandbox:github" }],
      ["openapi", { spec_url: "sandbox:openapi/openapi.json" }],
      ["salesforce", { base_url: "sandbox:salesforce" }],
    ] as const) {
      const id = await onboard(intentFor(sourceType, { ...config }, sourceType === "salesforce" ? own("ACCEPT_SF") : undefined));
      const row = (await getConnectionById(db, id))!;
      expect(row.status, sourceType).toBe("NETWORK_BLOCKED");
      expect(row.statusReason, sourceType).toMatch(/refers to the sandbox "[a-z]+", and no such sandbox is running/);
    }
    expect(seen.connections).toBe(0);
  });
});

describe("an install-wide secret, used by another organisation than the install's own, goes only to the connector's vendor hosts", () => {
  it("never to a host the tenant's admin approved: refused in words (approving cannot help), nothing received", async () => {
    // any organisation's admin can approve a host of their own and point an intent at it (trust-boundary audit)
    await addApprovedDestination(db, tenantId, { kind: "host", pattern: "127.0.0.1", ports: [port], sourceTypes: ["github", "openapi"], note: "ours" }, { label: "admin@test" });
    for (const [sourceType, config] of [
      ["github", { org: "acme", base_url: origin }],
      ["openapi", { spec: JSON.stringify({ openapi: "3.0.3", info: { title: "x", version: "1" }, paths: { "/items": { get: { responses: { "200": { description: "ok" } } } } } }), base_url: `${origin}/v1` }],
    ] as const) {
      current = sourceType;
      const id = await onboard(intentFor(sourceType, { ...config }, "env:AAM_SECRET_ACCEPT_TOKEN"));
      const row = (await getConnectionById(db, id))!;
      expect(row.status, sourceType).toBe("NETWORK_BLOCKED");
      expect(row.statusReason, sourceType).toContain("env:AAM_SECRET_ACCEPT_TOKEN is a secret this install shares with every organisation: outside the install's own organisation it goes only to the vendor's hosts");
      expect(row.blockedDestination, sourceType).toBeNull(); // no "Approve this destination": it would not help
    }
    expect(seen.connections).toBe(0);
    expect(carriesSecret()).toBe(false);
    // the organisation's own secret goes to the host its admin approved
    current = "github";
    const mine = await onboard(intentFor("github", { org: "acme", base_url: origin }));
    expect((await getConnectionById(db, mine))!.reachable).toBe(true);
    expect(carriesSecret()).toBe(true);
  });

  it("in any spelling of its locator (ENV:, Env:, a leading space): the limit is the secret's, not the string's", async () => {
    await addApprovedDestination(db, tenantId, { kind: "host", pattern: "127.0.0.1", ports: [port], sourceTypes: ["github"], note: "ours" }, { label: "admin@test" });
    current = "github";
    for (const locator of ["ENV:AAM_SECRET_ACCEPT_TOKEN", "Env:AAM_SECRET_ACCEPT_TOKEN", " env:AAM_SECRET_ACCEPT_TOKEN"]) {
      const id = await onboard(intentFor("github", { org: `acme-${locator.trim().slice(0, 3)}`, base_url: origin }, locator));
      const row = (await getConnectionById(db, id))!;
      expect(row.status, locator).toBe("NETWORK_BLOCKED");
      expect(row.statusReason, locator).toContain("is a secret this install shares with every organisation");
    }
    expect(seen.connections).toBe(0);
    expect(carriesSecret()).toBe(false);
  });

  it("nor to an instance the intent's config names on a wildcard vendor host (another customer's Zendesk, ServiceNow, Okta)", async () => {
    for (const [sourceType, config] of [
      ["zendesk", { subdomain: "evil" }],
      ["servicenow", { instance: "evil" }],
      ["okta", { domain: "evil.okta.com" }],
    ] as const) {
      current = sourceType;
      const id = await onboard(intentFor(sourceType, { ...config }, "env:AAM_SECRET_ACCEPT_TOKEN"));
      const row = (await getConnectionById(db, id))!;
      expect(row.status, sourceType).toBe("NETWORK_BLOCKED");
      expect(row.statusReason, sourceType).toContain("goes only to the vendor's hosts the catalog names (not to an instance or subdomain named in the connection's config)");
    }
    // a host the catalog names exactly is still the vendor's: GitHub's API is reached (no listener there: only the check is asked)
    const { namedCatalogHosts } = await import("../../server/onboarding/destination-grant");
    expect(namedCatalogHosts("github")).toContain("api.github.com");
    expect(namedCatalogHosts("zendesk")).toEqual([]);
  });
});

/** Fields whose format keeps them on the vendor's domains: a listener (or any other host) is refused at admission. */
const ADMISSION: [string, string, Record<string, unknown>][] = [
  ["jira", "site", { site: "" }],
  ["confluence", "site", { site: "" }],
  ["zendesk", "subdomain", { subdomain: "" }],
  ["datadog", "site", { site: "" }],
  ["okta", "domain", { domain: "" }],
  ["servicenow", "instance", { instance: "" }],
  ["workday", "host", { host: "", auth_host: "impl.workday.com", tenant: "acme" }],
  ["workday", "auth_host", { host: "wd2-impl-services1.workday.com", auth_host: "", tenant: "acme" }],
  ["netsuite", "account_id", { account_id: "" }],
  ["snowflake", "account", { account: "", warehouse: "W", database: "D", role: "R" }],
  ["gitlab", "host", { host: "" }],
];

describe("a config field that must stay on the vendor's domains refuses any other host at admission", () => {
  const hostile = () => [`127.0.0.1:${port}`, "127.0.0.1", "evil.example", `evil.example/x`, "acme.atlassian.net.evil.example", "acme.zendesk.com@evil.example", `http://127.0.0.1:${port}`];
  it.each(ADMISSION)("%s config.%s", async (sourceType, field, base) => {
    for (const value of hostile()) {
      // gitlab's host may name a self-managed host: a bare name passes admission and is decided by the grant (above)
      if (sourceType === "gitlab" && /^[a-z0-9.-]+$/.test(value) && !/^[0-9.]+$/.test(value)) continue;
      const r = parseConnectionIntent(intentFor(sourceType, { ...base, [field]: value }));
      expect(r.ok, `${sourceType}.${field}=${value}`).toBe(false);
      if (!r.ok) expect(r.issues.map((i) => i.path), `${sourceType}.${field}=${value}`).toContain(`config.${field}`);
    }
    expect(seen.connections).toBe(0);
  });
});

describe("Workday's REST path (an intent field joined to config.host) cannot move the request to another host", () => {
  it("refuses, at admission, a rest_path that would change the host, the port, the query or climb out of the path", () => {
    const base = { host: "wd2-impl-services1.workday.com", auth_host: "impl.workday.com" };
    const hostile = [
      "@evil.example/x",
      "//evil.example/x",
      ".evil.example/x",
      ":8443/ccx",
      "/ccx/../../x",
      "/ccx/./x",
      "/ccx/api?x=1",
      "/ccx/api#x",
      "/ccx/%2e%2e/x",
      "/ccx\\evil.example",
      "/ccx/api v1",
      "ccx/api",
      "",
    ];
    for (const value of hostile) {
      const r = parseConnectionIntent(intentFor("workday", { ...base, rest_path: value }));
      expect(r.ok, `rest_path=${JSON.stringify(value)}`).toBe(false);
      if (!r.ok) expect(r.issues.map((i) => i.path), `rest_path=${JSON.stringify(value)}`).toContain("config.rest_path");
    }
    // the documented form passes
    expect(parseConnectionIntent(intentFor("workday", { ...base, rest_path: "/ccx/api/v1/acme" })).ok).toBe(true);
    expect(seen.connections).toBe(0);
  });
});
