/**
 * ACTIVE means real (issue 10 item 7): a named resource that discovery did not find is never ACTIVE.
 * Real PostgreSQL (the sandbox schema), s3rver, the HTTP sandbox (GitHub), and a REST host that is
 * not the vendor. The pipeline calls `unmetNamedResources` between discovery and the first sync.
 */
import fs from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { postgresAdapter } from "../../server/connectors/drivers/postgres";
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { jdbcAdapter } from "../../server/connectors/drivers/jdbc";
import { mongoAdapter } from "../../server/connectors/drivers/mongo";
import { openApiDriver } from "../../server/connectors/drivers/openapi";
import { restDriver } from "../../server/connectors/drivers/rest";
import { salesforceDriver } from "../../server/connectors/drivers/salesforce";
import { s3Adapter } from "../../server/connectors/drivers/s3";
import { ensurePostgresSandbox } from "../../server/connectors/sandbox/postgres-sandbox";
import { SF_ORG_ID, startHttpSandbox, type HttpSandbox } from "../../server/connectors/sandbox/http-sandbox";
import { startS3Sandbox, type S3Sandbox } from "../../server/connectors/sandbox/s3-sandbox";
import { CATALOG } from "../../server/connectors/catalog";
import type { ConnectorResult, DiscoveredSchema } from "../../server/connectors/types";
import { unmetNamedResources } from "../../server/onboarding/named-resources";
import { testDatabaseUrl } from "../helpers/db";
import { startMongoWire, type MongoWire } from "../helpers/mongo-wire";
import { ctxFor } from "./native/ctx";

let pgUrl: string;
let dir: string;
let s3: S3Sandbox;
let web: HttpSandbox;
let mongo: MongoWire;

beforeAll(async () => {
  pgUrl = (await ensurePostgresSandbox(testDatabaseUrl())).url;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "aam-named-"));
  s3 = await startS3Sandbox({ dir, port: 0 });
  web = await startHttpSandbox({});
  mongo = await startMongoWire({ dbs: { shop: { orders: [{ _id: 1, total: 9.5 }], customers: [{ _id: 1, name: "Ada" }] }, payroll: { salaries: [{ _id: 1 }] } }, denied: ["payroll"] });
});
afterAll(async () => {
  await s3?.close();
  await web?.close();
  await mongo?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const schemaOf = (r: ConnectorResult<DiscoveredSchema>): DiscoveredSchema => {
  expect(r.ok, r.ok ? "" : r.error.message).toBe(true);
  return (r as { ok: true; value: DiscoveredSchema }).value;
};

describe("named resources must be found by discovery", () => {
  it("PostgreSQL: a named table that does not exist ends HEALING, naming the table; an existing one passes", async () => {
    const missing = ctxFor("postgres", { secret: { dsn: pgUrl }, resourceIds: ["sandbox.orders", "sandbox.no_such_table"] });
    expect((await postgresAdapter.healthCheck(missing)).ok).toBe(true);
    const schema = schemaOf(await postgresAdapter.discover(missing));
    expect(schema.resources).toEqual([
      { id: "sandbox.orders", kind: "table or schema", found: true },
      expect.objectContaining({ id: "sandbox.no_such_table", found: false, reason: "absent" }),
    ]);
    const unmet = unmetNamedResources(missing.resourceIds, schema);
    expect(unmet?.status).toBe("HEALING");
    expect(unmet?.reason).toContain('"sandbox.no_such_table"');
    expect(unmet?.reason).not.toContain('"sandbox.orders"');

    const present = ctxFor("postgres", { secret: { dsn: pgUrl }, resourceIds: ["sandbox.orders"] });
    expect(unmetNamedResources(present.resourceIds, schemaOf(await postgresAdapter.discover(present)))).toBeUndefined();
  });

  it("PostgreSQL: a named table that exists but the credential may not read ends AWAITING_CREDENTIALS, naming it", async () => {
    // its own schema and role (never the shared sandbox schema, whose three tables other tests count)
    const tag = Date.now().toString(36);
    const role = `aam_named_${tag}`;
    const schemaName = `aam_named_${tag}`;
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA ${schemaName}`);
      await admin.query(`CREATE TABLE ${schemaName}.orders (id int PRIMARY KEY)`);
      await admin.query(`CREATE TABLE ${schemaName}.payroll (id int PRIMARY KEY, salary numeric)`);
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'named-pw-1'`);
      await admin.query(`GRANT USAGE ON SCHEMA ${schemaName} TO ${role}`);
      await admin.query(`GRANT SELECT ON ${schemaName}.orders TO ${role}`);
      const u = new URL(pgUrl); // the same database, as the new role
      u.username = role;
      u.password = "named-pw-1";
      const ids = [`${schemaName}.orders`, `${schemaName}.payroll`, `${schemaName}.nothing`];
      const ctx = ctxFor("postgres", { secret: { dsn: u.toString() }, resourceIds: ids, config: { schemas: [schemaName] } });
      const schema = schemaOf(await postgresAdapter.discover(ctx));
      expect(schema.resources).toEqual([
        { id: ids[0], kind: "table or schema", found: true },
        expect.objectContaining({ id: ids[1], found: false, reason: "not_visible" }),
        expect.objectContaining({ id: ids[2], found: false, reason: "absent" }),
      ]);
      const unmet = unmetNamedResources(ctx.resourceIds, schema);
      expect(unmet?.status).toBe("AWAITING_CREDENTIALS");
      expect(unmet?.reason).toContain(`"${ids[1]}"`);
      // with the grant, the same table is found
      await admin.query(`GRANT SELECT ON ${schemaName}.payroll TO ${role}`);
      const granted = schemaOf(await postgresAdapter.discover({ ...ctx, resourceIds: [ids[1]!] }));
      expect(granted.resources).toEqual([{ id: ids[1], kind: "table or schema", found: true }]);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schemaName} CASCADE`).catch(() => undefined);
      await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await admin.end();
    }
  });

  it("MySQL/MariaDB (real server): a named table that does not exist ends HEALING, naming the table; an existing one passes", async () => {
    const table = `aam_named_${randomBytes(4).toString("hex")}`;
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", password: "", database: "test" });
    await c.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)`);
    try {
      const ctx = (resourceIds: string[]) => ctxFor("jdbc", { config: { url: "jdbc:mariadb://127.0.0.1:3306/test?user=root" }, resourceIds });
      const missing = ctx([`test.${table}`, `test.${table}_gone`]);
      expect((await jdbcAdapter.healthCheck(missing)).ok).toBe(true);
      const schema = schemaOf(await jdbcAdapter.discover(missing));
      expect(schema.streams.map((st) => st.name)).toEqual([`test.${table}`]);
      expect(schema.resources).toEqual([
        { id: `test.${table}`, kind: "table or schema", found: true },
        expect.objectContaining({ id: `test.${table}_gone`, found: false, reason: "absent" }),
      ]);
      const unmet = unmetNamedResources(missing.resourceIds, schema);
      expect(unmet?.status).toBe("HEALING");
      expect(unmet?.reason).toContain(`table or schema "test.${table}_gone"`);
      expect(unmet?.reason).not.toContain(`"test.${table}"`);
      const present = ctx([table]);
      expect(unmetNamedResources(present.resourceIds, schemaOf(await jdbcAdapter.discover(present)))).toBeUndefined();
    } finally {
      await c.query(`DROP TABLE IF EXISTS \`${table}\``);
      await c.end();
    }
  });

  it("S3: a named bucket that does not exist ends HEALING, naming the bucket (health still proves the store)", async () => {
    const ctx = ctxFor("s3_compat", {
      config: { endpoint: s3.endpoint, region: "us-east-1" },
      secret: { access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey },
      resourceIds: [s3.bucket, "no-such-bucket-aam"],
    });
    expect((await s3Adapter.healthCheck(ctx)).ok).toBe(true);
    const schema = schemaOf(await s3Adapter.discover(ctx));
    expect(schema.resources).toEqual([
      { id: s3.bucket, kind: "bucket", found: true },
      expect.objectContaining({ id: "no-such-bucket-aam", found: false, reason: "absent" }),
    ]);
    const unmet = unmetNamedResources(ctx.resourceIds, schema);
    expect(unmet?.status).toBe("HEALING");
    expect(unmet?.reason).toContain('bucket "no-such-bucket-aam"');
  });

  it("S3: a bucket the credential may not read (403) ends AWAITING_CREDENTIALS naming it; a missing one HEALING", async () => {
    // an S3-compatible store that answers as the S3 API documents: HeadBucket 200 / 403 / 404, ListObjectsV2 XML
    const store = http.createServer((req, res) => {
      const bucket = new URL(req.url ?? "/", "http://x").pathname.split("/")[1];
      if (bucket === "locked-aam") return res.writeHead(403).end();
      if (bucket !== "open-aam") return res.writeHead(404).end();
      if (req.method === "HEAD") return res.writeHead(200).end();
      res.writeHead(200, { "content-type": "application/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>open-aam</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`);
    });
    await new Promise<void>((r) => store.listen(0, "127.0.0.1", r));
    try {
      const ctx = (resourceIds: string[]) =>
        ctxFor("s3_compat", { config: { endpoint: `http://127.0.0.1:${(store.address() as AddressInfo).port}`, region: "us-east-1" }, secret: { access_key_id: "AKIDEXAMPLE", secret_access_key: "s" }, resourceIds });
      const hidden = ctx(["open-aam", "locked-aam"]);
      const h = await s3Adapter.healthCheck(hidden);
      expect(h).toMatchObject({ ok: false, error: { kind: "auth", message: expect.stringContaining('bucket "locked-aam"') } });
      const d = schemaOf(await s3Adapter.discover(hidden));
      expect(d.resources).toEqual([
        { id: "open-aam", kind: "bucket", found: true },
        { id: "locked-aam", kind: "bucket", found: false, reason: "not_visible", detail: "the credential may not read this bucket" },
      ]);
      expect(unmetNamedResources(hidden.resourceIds, d)).toMatchObject({ status: "AWAITING_CREDENTIALS", reason: expect.stringContaining('bucket "locked-aam" (the credential may not read this bucket)') });
      const gone = ctx(["open-aam", "gone-aam"]);
      expect((await s3Adapter.healthCheck(gone)).ok).toBe(true);
      expect(unmetNamedResources(gone.resourceIds, schemaOf(await s3Adapter.discover(gone)))).toMatchObject({ status: "HEALING", reason: expect.stringContaining('bucket "gone-aam" (the object store has no such bucket)') });
    } finally {
      await new Promise<void>((r) => store.close(() => r()));
    }
  });

  it("GitHub: a named org that does not exist ends HEALING, naming the org; an existing org is found", async () => {
    const ctx = (org: string, resourceIds: string[] = []) =>
      ctxFor("github", { config: { base_url: web.urlFor("github"), org }, secret: { token: web.token }, resourceIds });
    const gone = ctx("no-such-org");
    expect((await restDriver.healthCheck(gone)).ok).toBe(true);
    const d = await restDriver.discover(gone);
    // the org's streams 404 too: discovery fails (HEALING) — or, where streams answered, the lookup names the org
    if (d.ok) {
      const unmet = unmetNamedResources(gone.resourceIds, d.value);
      expect(unmet?.status).toBe("HEALING");
      expect(unmet?.reason).toContain('organization "no-such-org"');
    } else expect(d.error.message).toMatch(/404/);

    // the org exists but an intent names one that does not: the lookup says so in words
    const named = ctx("acme", ["no-such-other"]);
    const schema = schemaOf(await restDriver.discover(named));
    expect(schema.resources).toEqual([
      expect.objectContaining({ id: "no-such-other", kind: "organization", found: false, reason: "absent" }),
      { id: "acme", kind: "organization", found: true },
    ]);
    const unmet = unmetNamedResources(named.resourceIds, schema);
    expect(unmet?.status).toBe("HEALING");
    expect(unmet?.reason).toContain('organization "no-such-other"');
    expect(unmetNamedResources([], schemaOf(await restDriver.discover(ctx("acme"))))).toBeUndefined();
  });

  it("Salesforce: a named sObject that does not exist ends HEALING, one the user may not see AWAITING_CREDENTIALS, each named; the token's own org passes", async () => {
    const sf = (resourceIds: string[], config: Record<string, unknown> = {}) =>
      ctxFor("salesforce", { config: { base_url: web.urlFor("salesforce"), ...config }, secret: { access_token: web.token }, resourceIds });
    // the org the token belongs to (15- and 18-character forms) and existing objects are found
    const own = sf([`org_${SF_ORG_ID.slice(0, 15)}`, SF_ORG_ID, "Account"], { objects: "Contact" });
    const found = schemaOf(await salesforceDriver.discover(own));
    expect(found.resources).toEqual([
      { id: `org_${SF_ORG_ID.slice(0, 15)}`, kind: "Salesforce org", found: true },
      { id: SF_ORG_ID, kind: "Salesforce org", found: true },
      { id: "Account", kind: "sObject", found: true },
      { id: "Contact", kind: "sObject", found: true },
    ]);
    expect(unmetNamedResources(own.resourceIds, found)).toBeUndefined();

    // a missing custom object (named by the intent or by config.objects): HEALING, in words
    const missing = sf(["Account", "Invoice__c"], { objects: "Account, Shipment__c" });
    const schema = schemaOf(await salesforceDriver.discover(missing));
    expect(schema.resources).toEqual([
      { id: "Account", kind: "sObject", found: true },
      expect.objectContaining({ id: "Invoice__c", kind: "sObject", found: false, reason: "absent" }),
      expect.objectContaining({ id: "Shipment__c", kind: "sObject", found: false, reason: "absent" }),
    ]);
    const unmet = unmetNamedResources(missing.resourceIds, schema);
    expect(unmet?.status).toBe("HEALING");
    expect(unmet?.reason).toContain('sObject "Invoice__c" (the org has no such sObject (NOT_FOUND))');
    expect(unmet?.reason).toContain('sObject "Shipment__c"');

    // an object the user's profile hides (403 INSUFFICIENT_ACCESS), and another org's id: AWAITING_CREDENTIALS
    const hidden = sf(["LoginHistory", "org_00D000000000001"]);
    const h = unmetNamedResources(hidden.resourceIds, schemaOf(await salesforceDriver.discover(hidden)));
    expect(h?.status).toBe("AWAITING_CREDENTIALS");
    expect(h?.reason).toContain('sObject "LoginHistory" (the credential may not see it (INSUFFICIENT_ACCESS))');
    expect(h?.reason).toContain(`Salesforce org "org_00D000000000001" (the credential belongs to org ${SF_ORG_ID}, not 00D000000000001)`);

    // an object that exists but cannot be queried is not a data source: not ACTIVE either
    const changeEvents = sf(["AccountChangeEvent"]);
    expect(unmetNamedResources(changeEvents.resourceIds, schemaOf(await salesforceDriver.discover(changeEvents)))?.reason).toContain('sObject "AccountChangeEvent" (it exists but is not queryable)');
  });

  it("MongoDB (the real driver on the wire): a named collection or database that does not exist ends HEALING, one the user may not read AWAITING_CREDENTIALS, each named", async () => {
    const mg = (resourceIds: string[], path = "") => ctxFor("mongo", { secret: { dsn: `${mongo.url}/${path}` }, resourceIds });
    const present = mg(["shop.orders", "shop"]);
    expect((await mongoAdapter.healthCheck(present)).ok).toBe(true);
    const ok = schemaOf(await mongoAdapter.discover(present));
    expect(ok.streams.map((s) => s.name)).toEqual(["shop.orders", "shop.customers"]);
    expect(ok.resources).toEqual([
      { id: "shop.orders", kind: "collection", found: true },
      { id: "shop", kind: "database", found: true },
    ]);
    expect(unmetNamedResources(present.resourceIds, ok)).toBeUndefined();

    // a collection of the URL's database, and a database, that do not exist
    const missing = mg(["orders", "invoices"], "shop");
    const schema = schemaOf(await mongoAdapter.discover(missing));
    expect(schema.resources).toEqual([
      { id: "orders", kind: "collection", found: true },
      expect.objectContaining({ id: "invoices", kind: "collection", found: false, reason: "absent" }),
    ]);
    const unmet = unmetNamedResources(missing.resourceIds, schema);
    expect(unmet?.status).toBe("HEALING");
    expect(unmet?.reason).toContain('collection "invoices" (MongoDB has no collection invoices of database shop)');
    const noDb = mg(["archive"]);
    expect(unmetNamedResources(noDb.resourceIds, schemaOf(await mongoAdapter.discover(noDb)))).toMatchObject({ status: "HEALING", reason: expect.stringContaining('database "archive" (MongoDB has no database archive') });

    // a database (and a collection in it) this user holds no privilege on: 13 Unauthorized → AWAITING_CREDENTIALS
    const hidden = mg(["payroll.salaries", "payroll", "shop.orders"]);
    const h = schemaOf(await mongoAdapter.discover(hidden));
    expect(h.streams.map((s) => s.name)).toEqual(["shop.orders"]);
    const hu = unmetNamedResources(hidden.resourceIds, h);
    expect(hu?.status).toBe("AWAITING_CREDENTIALS");
    expect(hu?.reason).toContain('collection "payroll.salaries" (the credential may not read collection salaries of database payroll (13 Unauthorized))');
    expect(hu?.reason).toContain('database "payroll" (the credential may not read database payroll (13 Unauthorized))');
    expect(hu?.reason).not.toContain('"shop.orders"');
  });

  it("OpenAPI: a named operation or path the document lacks, declares only unsafely, or the server answers 404 for ends HEALING; one answered 403 AWAITING_CREDENTIALS", async () => {
    // the sandbox's document (listItems, listUsers; getItem has a path parameter, createItem is a write)
    const oa = (resourceIds: string[]) => ctxFor("openapi", { config: { spec_url: `${web.urlFor("openapi")}/openapi.json` }, secret: { token: web.token }, resourceIds });
    const present = oa(["listItems", "/users"]);
    const ok = schemaOf(await openApiDriver.discover(present));
    expect(ok.resources).toEqual([
      { id: "listItems", kind: "operation", found: true },
      { id: "/users", kind: "path", found: true },
    ]);
    expect(unmetNamedResources(present.resourceIds, ok)).toBeUndefined();
    const missing = oa(["listItems", "listInvoices", "getItem"]);
    const unmet = unmetNamedResources(missing.resourceIds, schemaOf(await openApiDriver.discover(missing)));
    expect(unmet?.status).toBe("HEALING");
    expect(unmet?.reason).toContain('operation "listInvoices" (the OpenAPI document has no such operation or path)');
    expect(unmet?.reason).toContain('operation "getItem" (the document declares it only as GET /items/{id}, which Safe Mode does not call');
    expect(unmet?.reason).not.toContain('"listItems"');

    // a document whose server does not serve one operation (404) and refuses another (403)
    const server = http.createServer((req, res) => {
      const [status, body] = req.url?.startsWith("/v1/items") ? [200, { data: [{ id: 1 }] }] : req.url?.startsWith("/v1/payroll") ? [403, { error: "forbidden" }] : [404, { error: "not found" }];
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const list = (schema: string) => ({ get: { operationId: schema, responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { data: { type: "array", items: { type: "object", properties: { id: { type: "integer" } } } } } } } } } } } });
      const spec = JSON.stringify({ openapi: "3.0.3", info: { title: "x", version: "1" }, paths: { "/items": list("listItems"), "/invoices": list("listInvoices"), "/payroll": list("listPayroll") } });
      const ctx = ctxFor("openapi", { config: { spec, base_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` }, secret: { token: "t" }, resourceIds: ["listItems", "listInvoices", "/payroll"] });
      expect((await openApiDriver.healthCheck(ctx)).ok).toBe(true);
      const schema = schemaOf(await openApiDriver.discover(ctx));
      expect(schema.streams.map((st) => st.name)).toEqual(["listItems"]);
      expect(schema.resources).toEqual([
        { id: "listItems", kind: "operation", found: true },
        expect.objectContaining({ id: "listInvoices", found: false, reason: "absent", detail: "the server has no GET /invoices (HTTP 404)" }),
        expect.objectContaining({ id: "/payroll", kind: "path", found: false, reason: "not_visible" }),
      ]);
      const u = unmetNamedResources(ctx.resourceIds, schema);
      expect(u?.status).toBe("AWAITING_CREDENTIALS");
      expect(u?.reason).toContain('path "/payroll" (the credential may not call GET /payroll');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("Jira: a named project that does not exist ends HEALING, naming it; an existing key or id is found", async () => {
    const ctx = ctxFor("jira", { config: { site: "acme.atlassian.net", base_url: web.urlFor("jira") }, secret: { token: web.token }, resourceIds: ["P1", "20002", "NOPE"] });
    expect((await restDriver.healthCheck(ctx)).ok).toBe(true);
    const schema = schemaOf(await restDriver.discover(ctx));
    expect(schema.resources).toEqual([
      { id: "P1", kind: "project", found: true },
      { id: "20002", kind: "project", found: true },
      expect.objectContaining({ id: "NOPE", kind: "project", found: false, reason: "absent" }),
    ]);
    const unmet = unmetNamedResources(ctx.resourceIds, schema);
    expect(unmet?.status).toBe("HEALING");
    expect(unmet?.reason).toContain('project "NOPE" (Jira Cloud has no such project)');
  });

  it("Confluence: a space id that does not exist (404) or a key where an id goes (400) ends HEALING, naming it", async () => {
    const server = http.createServer((req, res) => {
      const p = new URL(req.url ?? "/", "http://x").pathname;
      const [status, body] =
        p === "/wiki/api/v2/spaces" || p === "/wiki/api/v2/pages" ? [200, { results: [{ id: "123", key: "ENG", title: "t" }], _links: {} }]
        : p === "/wiki/api/v2/spaces/123" ? [200, { id: "123", key: "ENG", name: "Engineering" }]
        : /^\/wiki\/api\/v2\/spaces\/\d+$/.test(p) ? [404, { errors: [{ status: 404, code: "NOT_FOUND" }] }]
        : [400, { errors: [{ status: 400, code: "INVALID_REQUEST_PARAMETER" }] }];
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const ctx = ctxFor("confluence", { config: { site: "acme.atlassian.net", base_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wiki` }, secret: { token: "t" }, resourceIds: ["123", "999", "ENG"] });
      expect((await restDriver.healthCheck(ctx)).ok).toBe(true);
      const schema = schemaOf(await restDriver.discover(ctx));
      expect(schema.resources).toEqual([
        { id: "123", kind: "space", found: true },
        expect.objectContaining({ id: "999", found: false, reason: "absent", detail: "Confluence Cloud has no such space" }),
        expect.objectContaining({ id: "ENG", found: false, reason: "absent", detail: "Confluence Cloud refused it as a space id (HTTP 400)" }),
      ]);
      expect(unmetNamedResources(ctx.resourceIds, schema)).toMatchObject({ status: "HEALING", reason: expect.stringContaining('space "999"') });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("an id the driver cannot look up is not vouched for; ids the credential cannot see end AWAITING_CREDENTIALS", () => {
    const hidden = unmetNamedResources(["b1"], { streams: [], resources: [{ id: "b1", kind: "bucket", found: false, reason: "not_visible", detail: "the credential may not read this bucket" }] });
    expect(hidden).toMatchObject({ status: "AWAITING_CREDENTIALS" });
    expect(hidden?.reason).toContain('bucket "b1" (the credential may not read this bucket)');
    expect(unmetNamedResources(["x"], { streams: [], resources: [] })?.reason).toContain('"x" (discovery did not report it)');
    // a driver that does not check named resources reports none: nothing to judge
    expect(unmetNamedResources(["x"], { streams: [] })).toBeUndefined();
  });
});

describe("health proves the far side is the vendor", () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    // answers 200 and [] to everything, as a host that is not the vendor might
    server = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("[]"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  for (const [sourceType, config] of [
    ["github", { org: "acme" }],
    ["slack", {}],
    ["zendesk", { subdomain: "acme" }],
    ["datadog", {}],
  ] as const) {
    it(`${sourceType}: a 200 without the documented identifying fields fails health (not reachable, never ACTIVE)`, async () => {
      const r = await restDriver.healthCheck(ctxFor(sourceType, { config: { ...config, base_url: base }, secret: { token: "t", api_key: "k", application_key: "a", email: "e@x", api_token: "t" } }));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message).toMatch(/not the vendor's API/);
    });
  }

  it("every REST-family entry declares the vendor's identifying fields, and a host answering 200 [] or {} to everything fails its health in words", async () => {
    const empty = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    await new Promise<void>((r) => empty.listen(0, "127.0.0.1", r));
    const bases = { "[]": base, "{}": `http://127.0.0.1:${(empty.address() as AddressInfo).port}` };
    const secret = { token: "t", access_token: "t", api_key: "k", application_key: "a", email: "e@example.com", api_token: "t", access_key_id: "AKIDEXAMPLE", secret_access_key: "s" };
    const passed: string[] = [];
    try {
      for (const e of Object.values(CATALOG).filter((x) => x.driver === "rest" || x.driver === "salesforce")) {
        expect(e.health?.expect?.length, `${e.sourceType} health.expect`).toBeGreaterThan(0);
        const config = Object.fromEntries(e.configFields.filter((f) => f.example !== undefined && f.name !== "base_url").map((f) => [f.name, f.example]));
        for (const [body, url] of Object.entries(bases)) {
          const ctx = ctxFor(e.sourceType, { config: { ...config, base_url: url }, secret });
          const r = await (e.driver === "salesforce" ? salesforceDriver : restDriver).healthCheck(ctx);
          if (r.ok) passed.push(`${e.sourceType} ${body}`);
          else expect(r.error.message, `${e.sourceType} ${body}`).toMatch(/not the vendor's API/);
        }
      }
    } finally {
      await new Promise<void>((r) => empty.close(() => r()));
    }
    expect(passed).toEqual([]);
  });

  it("s3: a host answering 200 [] or {} to everything fails health in words, with or without a named bucket", async () => {
    const empty = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    await new Promise<void>((r) => empty.listen(0, "127.0.0.1", r));
    try {
      for (const endpoint of [base, `http://127.0.0.1:${(empty.address() as AddressInfo).port}`]) {
        for (const resourceIds of [[], ["some-bucket"]]) {
          const r = await s3Adapter.healthCheck(ctxFor("s3_compat", { config: { endpoint, region: "us-east-1" }, secret: { access_key_id: "AKIDEXAMPLE", secret_access_key: "s" }, resourceIds }));
          expect(r.ok, `${endpoint} ${resourceIds.join()}`).toBe(false);
          if (!r.ok) expect(r.error.message).toMatch(/not the vendor's API/);
        }
      }
    } finally {
      await new Promise<void>((r) => empty.close(() => r()));
    }
  });

  it("salesforce: a 200 to /limits without DailyApiRequests fails health in words; the stand-in passes", async () => {
    const r = await salesforceDriver.healthCheck(ctxFor("salesforce", { config: { base_url: base }, secret: { access_token: "t" } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/DailyApiRequests.Max is missing.*not the vendor's API/);
    expect((await salesforceDriver.healthCheck(ctxFor("salesforce", { config: { base_url: web.urlFor("salesforce") }, secret: { access_token: web.token } }))).ok).toBe(true);
  });

  it("openapi: a host answering 200 [] where the document declares a page object fails health in words; the sandbox passes", async () => {
    const spec = JSON.stringify({ openapi: "3.0.3", info: { title: "x", version: "1" }, paths: { "/items": { get: { responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object", properties: { data: { type: "array", items: { type: "object" } } } } } } } } } } } });
    const r = await openApiDriver.healthCheck(ctxFor("openapi", { config: { spec, base_url: base }, secret: { token: "t" } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/the body is an array, not the object the document declares\): not the API it describes/);
    expect((await openApiDriver.healthCheck(ctxFor("openapi", { config: { spec_url: `${web.urlFor("openapi")}/openapi.json` }, secret: { token: web.token } }))).ok).toBe(true);
  });

  it("the real stand-in answers as documented and passes", async () => {
    const r = await restDriver.healthCheck(ctxFor("github", { config: { base_url: web.urlFor("github"), org: "acme" }, secret: { token: web.token } }));
    expect(r.ok).toBe(true);
  });
});
