import { LOOPBACK_APPROVED } from "../safe-mode/test-destinations";
import { NO_DESTINATIONS } from "../safe-mode/destinations";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpSandbox, startHttpSandbox } from "../sandbox/http-sandbox";
import { createSafeHttp } from "../safe-mode/http";
import { makePolicy } from "../safe-mode/policy";
import type { ConnectorContext, SafetyPolicy } from "../types";
import { createSalesforceDriver, salesforceDriver } from "./salesforce";

let sb: HttpSandbox;
let n = 0;
const fast = createSalesforceDriver(createSafeHttp({ retries: 0 }));

function ctx(over: { secret?: Record<string, string>; config?: Record<string, unknown>; policy?: Partial<SafetyPolicy> } = {}): ConnectorContext {
  return {
    connectionId: `sf-${++n}`,
    sourceType: "salesforce",
    resourceIds: [], // named resources (an org id costs one Organization query): tests/connectors/named-resources.test.ts
    config: { base_url: sb.urlFor("salesforce"), ...(over.config ?? {}) },
    secret: over.secret ?? { access_token: sb.token, instance_url: "https://acme.my.salesforce.com" },
    policy: makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 2_000, ...(over.policy ?? {}) }),
    destinations: LOOPBACK_APPROVED,
  };
}

beforeAll(async () => {
  sb = await startHttpSandbox();
});
afterAll(async () => {
  await sb.close();
});

describe("Salesforce driver (sandbox)", () => {
  it("checks health on /limits", async () => {
    sb.resetLog();
    expect(await salesforceDriver.healthCheck(ctx())).toMatchObject({ ok: true });
    expect(sb.requests.at(-1)?.path).toBe("/salesforce/services/data/v62.0/limits");
  });

  it("discovers queryable objects via describeGlobal + describe, metadata only", async () => {
    sb.resetLog();
    const d = await salesforceDriver.discover(ctx());
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value.streams.map((s) => s.name)).toEqual(["Account", "Contact", "Opportunity", "Case"]); // AccountChangeEvent is not queryable
    expect(d.value.streams[0]!.fields).toContainEqual({ name: "Name", type: "string", nullable: false });
    expect(sb.count({ pathIncludes: "/query" })).toBe(0);
    expect(sb.count({ pathIncludes: "/describe" })).toBe(4);
  });

  it("honours config.objects", async () => {
    const d = await salesforceDriver.discover(ctx({ config: { objects: "Case, Bogus;DROP, Contact" } }));
    expect(d.ok && d.value.streams.map((s) => s.name)).toEqual(["Case", "Contact"]);
  });

  it("samples with SOQL over GET, skipping compound fields, ≤ 20 in total even when 50 are asked", async () => {
    const c = ctx();
    const d = await salesforceDriver.discover(c);
    if (!d.ok) throw new Error("discover failed");
    c.policy = { ...c.policy, maxRecords: 50 };
    sb.resetLog();
    const s = await salesforceDriver.sample(c, d.value);
    expect(s.ok && s.value.length).toBe(20);
    const soql = sb.requests.filter((r) => r.path.endsWith("/query")).map((r) => r.query.q);
    expect(soql[0]).toMatch(/^SELECT Id, IsDeleted, Name, Industry, AnnualRevenue, CreatedDate FROM Account LIMIT 5$/);
    expect(soql.join(" ")).not.toContain("BillingAddress");
    expect(sb.requests.every((r) => r.method === "GET")).toBe(true);
    if (s.ok) expect(s.value[0]!.data).not.toHaveProperty("attributes");
  });

  it("follows nextRecordsUrl only while the budget needs it", async () => {
    sb.resetLog();
    const s = await salesforceDriver.sample(ctx(), { streams: [{ name: "Account", fields: [{ name: "Name", type: "string" }] }] });
    expect(s.ok && s.value.length).toBe(20);
    // sandbox batches are 10 records: the query plus one nextRecordsUrl
    expect(sb.count({ pathIncludes: "/query" })).toBe(2);
  });

  it("fails as auth on an invalid session", async () => {
    const r = await fast.healthCheck(ctx({ secret: { access_token: "00Dxx!bad" } }));
    expect(r).toMatchObject({ ok: false, error: { kind: "auth" } });
    expect(JSON.stringify(r)).not.toContain("00Dxx!bad");
  });

  it("takes the instance URL from the token, and refuses one outside Salesforce's hosts", async () => {
    sb.resetLog();
    const c = ctx({ secret: { access_token: sb.token, instance_url: sb.urlFor("salesforce") } });
    delete c.config.base_url;
    // even with loopback approved for the tenant: a token's instance_url is only ever a Salesforce host
    expect(await fast.healthCheck(c)).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining("is not one of Salesforce's hosts") } });
    expect(sb.count()).toBe(0);
    const none = ctx({ secret: { access_token: sb.token } });
    delete none.config.base_url;
    expect(await fast.healthCheck(none)).toMatchObject({ ok: false, error: { kind: "other", message: expect.stringContaining("instance") } });
  });

  it("reaches a config-named instance only when the tenant approved it (the grant decides), and never an unexpanded sandbox", async () => {
    sb.resetLog();
    const c = { ...ctx({ secret: { access_token: sb.token } }), destinations: NO_DESTINATIONS };
    c.config = { instance_url: sb.urlFor("salesforce") };
    expect(await fast.healthCheck(c)).toMatchObject({ ok: false, error: { kind: "not_approved", message: expect.stringContaining("Destination not approved") } });
    const viaBase = { ...ctx(), destinations: NO_DESTINATIONS };
    expect(await fast.healthCheck(viaBase)).toMatchObject({ ok: false, error: { kind: "not_approved" } });
    const sandboxOff = ctx({ config: { base_url: "sandbox:salesforce" } });
    expect(await fast.healthCheck(sandboxOff)).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining('the sandbox "salesforce"') } });
    expect(sb.count()).toBe(0);
    const approved = ctx({ secret: { access_token: sb.token } });
    approved.config = { instance_url: sb.urlFor("salesforce") };
    expect(await fast.healthCheck(approved)).toMatchObject({ ok: true });
  });
});
