import { LOOPBACK_APPROVED } from "../safe-mode/test-destinations";
import { NO_DESTINATIONS } from "../safe-mode/destinations";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpSandbox, startHttpSandbox } from "../sandbox/http-sandbox";
import { createSafeHttp } from "../safe-mode/http";
import { makePolicy } from "../safe-mode/policy";
import type { ConnectorContext } from "../types";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createOpenApiDriver, openApiDriver, parseSpec, safeOperations } from "./openapi";

let sb: HttpSandbox;
let n = 0;
const fast = createOpenApiDriver(createSafeHttp({ retries: 0 }));

function ctx(config: Record<string, unknown>, secret: Record<string, string> = { token: sb.token }): ConnectorContext {
  return {
    connectionId: `oa-${++n}`,
    sourceType: "openapi",
    resourceIds: ["api"],
    config,
    secret,
    policy: makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 2_000 }),
    destinations: LOOPBACK_APPROVED,
  };
}

beforeAll(async () => {
  sb = await startHttpSandbox();
});
afterAll(async () => {
  await sb.close();
});

describe("OpenAPI driver (sandbox)", () => {
  it.each(["openapi.json", "openapi.yaml"])("reads %s by URL, picks only safe GET operations and discovers from response schemas", async (file) => {
    const c = ctx({ spec_url: `${sb.urlFor("openapi")}/${file}` });
    sb.resetLog();
    const d = await openApiDriver.discover(c);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    // getItem has a path parameter, getReport a required query parameter, createItem/deleteItem are writes
    expect(d.value.streams.map((s) => s.name)).toEqual(["listItems", "listUsers"]);
    expect(d.value.streams[0]!.fields).toEqual([
      { name: "id", type: "integer" },
      { name: "name", type: "string" },
      { name: "price", type: "number", nullable: true },
      { name: "created_at", type: "datetime", nullable: true },
      { name: "tags", type: "array", nullable: true },
    ]);
    // schemas were enough: discovery fetched the document and no data
    expect(sb.count({ pathIncludes: "/v1/" })).toBe(0);
  });

  it("samples ≤ 20 records across operations, GET only", async () => {
    const c = ctx({ spec_url: `${sb.urlFor("openapi")}/openapi.json` });
    const d = await openApiDriver.discover(c);
    if (!d.ok) throw new Error("discover failed");
    c.policy = { ...c.policy, maxRecords: 50 };
    sb.resetLog();
    const s = await openApiDriver.sample(c, d.value);
    expect(s.ok && s.value.length).toBe(20);
    expect(sb.requests.filter((r) => r.path.startsWith("/openapi/v1")).every((r) => r.method === "GET")).toBe(true);
    expect(sb.requests.find((r) => r.path === "/openapi/v1/items")?.query.limit).toBe("10");
  });

  it("takes an inline spec and config.base_url", async () => {
    const spec = await (await fetch(`${sb.urlFor("openapi")}/openapi.yaml`)).text();
    const c = ctx({ spec, base_url: `${sb.urlFor("openapi")}/v1` });
    expect(await openApiDriver.healthCheck(c)).toMatchObject({ ok: true });
  });

  it("a fetched document whose servers name another origin is refused until base_url names it (the secret's destination follows from config)", async () => {
    const foreign = http.createServer((req, res) => {
      if (req.url === "/openapi.json") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ openapi: "3.0.3", info: { title: "x", version: "1" }, servers: [{ url: `${sb.urlFor("openapi")}/v1` }], paths: { "/items": { get: { responses: { "200": { description: "ok" } } } } } }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => foreign.listen(0, "127.0.0.1", r));
    try {
      const specUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/openapi.json`;
      sb.resetLog();
      expect(await openApiDriver.healthCheck(ctx({ spec_url: specUrl }))).toMatchObject({ ok: false, error: { kind: "safe_mode", message: expect.stringContaining("set config.base_url to the API's base") } });
      expect(sb.requests.filter((r) => r.path.startsWith("/openapi/v1"))).toEqual([]);
      // named in config, it is part of the secret's destination: allowed
      expect(await openApiDriver.healthCheck(ctx({ spec_url: specUrl, base_url: `${sb.urlFor("openapi")}/v1` }))).toMatchObject({ ok: true });
    } finally {
      await new Promise((r) => foreign.close(r));
    }
  });

  it("refuses a base_url with a query or a fragment (the intent would choose every request), nothing sent", async () => {
    const spec = await (await fetch(`${sb.urlFor("openapi")}/openapi.yaml`)).text();
    sb.resetLog();
    for (const base_url of [`${sb.urlFor("openapi")}/v1?x=`, `${sb.urlFor("openapi")}/v1#x`]) {
      expect(await openApiDriver.healthCheck(ctx({ spec, base_url })), base_url).toMatchObject({ ok: false, error: { kind: "safe_mode", message: expect.stringContaining("may not carry a query or a fragment") } });
    }
    expect(sb.requests.filter((r) => r.path.startsWith("/openapi/v1"))).toEqual([]);
  });

  it("fetches the spec, and calls the document's servers, only where the grant permits (nothing is sent otherwise)", async () => {
    sb.resetLog();
    const unapproved = { ...ctx({ spec_url: `${sb.urlFor("openapi")}/openapi.json` }), destinations: NO_DESTINATIONS };
    expect(await fast.healthCheck(unapproved)).toMatchObject({ ok: false, error: { kind: "not_approved", message: expect.stringContaining("Destination not approved") } });
    // an inline document whose servers point at an unapproved host: the token never leaves
    const spec = await (await fetch(`${sb.urlFor("openapi")}/openapi.json`)).text();
    sb.resetLog();
    const inline = { ...ctx({ spec }), destinations: NO_DESTINATIONS };
    expect(await fast.healthCheck(inline)).toMatchObject({ ok: false, error: { kind: "not_approved" } });
    const viaBase = { ...ctx({ spec, base_url: `${sb.urlFor("openapi")}/v1` }), destinations: NO_DESTINATIONS };
    expect(await fast.healthCheck(viaBase)).toMatchObject({ ok: false, error: { kind: "not_approved" } });
    for (const field of ["spec_url", "base_url"]) {
      const off = ctx({ spec, [field]: "sandbox:openapi/openapi.json" });
      expect(await fast.healthCheck(off)).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining(`config.${field} refers to the sandbox "openapi"`) } });
    }
    expect(sb.count()).toBe(0);
  });

  it("fails as auth with a wrong token, and as unsupported for a document that is not OpenAPI", async () => {
    expect(await fast.healthCheck(ctx({ spec_url: `${sb.urlFor("openapi")}/openapi.json` }, { token: "nope-nope" }))).toMatchObject({ ok: false, error: { kind: "auth" } });
    expect(await fast.discover(ctx({ spec: "just: yaml" }))).toMatchObject({ ok: false, error: { kind: "unsupported" } });
  });

  it("ignores operations with required parameters and never follows remote $refs", () => {
    const doc = parseSpec(
      JSON.stringify({
        swagger: "2.0",
        host: "api.example.com",
        paths: {
          "/a": { get: { parameters: [{ name: "q", in: "query", required: true }], responses: {} } },
          "/b": { get: { responses: { "200": { schema: { $ref: "https://evil.example/schema.json" } } } } },
          "/c": { post: { responses: {} } },
        },
      }),
    );
    expect(doc.ok).toBe(true);
    if (!doc.ok) return;
    const ops = safeOperations(doc.value);
    expect(ops.map((o) => o.path)).toEqual(["/b"]);
    expect(ops[0]!.fields).toBeUndefined();
  });
});
