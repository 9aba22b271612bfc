/**
 * A vendor's own host is reached over TLS only (server/connectors/safe-mode/destinations.ts): an
 * intent whose config points a SaaS connector at `http://<vendor host>` — or a vendor answer whose
 * next-page link does — never sends a byte, let alone the credential, in clear text. Found in the
 * trust-boundary audit: `base_url: "http://api.github.com"` was admitted and the bearer token sent
 * over plain HTTP.
 */
import http from "node:http";
import https from "node:https";
import { afterEach, describe, expect, it, vi } from "vitest";

vi.mock("node:dns/promises", async (orig) => {
  const real = await orig<typeof import("node:dns/promises")>();
  // the vendor names resolve to public addresses (no network here: nothing may connect anyway)
  const lookup = async () => [{ address: "140.82.112.6", family: 4 }];
  return { ...real, lookup, default: { ...real, lookup } };
});

const { createRestDriver } = await import("../../server/connectors/drivers/rest");
const { bindConnector } = await import("../../server/connectors/binding");
const { createSafeHttp } = await import("../../server/connectors/safe-mode/http");
const { catalogOnlyDestinations } = await import("../../server/onboarding/destination-grant");
const { parseConnectionIntent } = await import("../../server/onboarding/intent-admission");
const { makePolicy } = await import("../../server/connectors/safe-mode/policy");

const sent: string[] = [];
const refuseAll = (scheme: string) =>
  ((url: unknown, opts: unknown) => {
    sent.push(`${scheme} ${String(url)} ${JSON.stringify(opts)}`);
    throw new Error("no request may leave in this test");
  }) as unknown as typeof http.request;

afterEach(() => {
  vi.restoreAllMocks();
  sent.length = 0;
});

async function health(sourceType: string, config: Record<string, unknown>, secret: Record<string, unknown>, adapter: { healthCheck: (ctx: never) => Promise<unknown> } = createRestDriver(createSafeHttp({ retries: 0 }))) {
  vi.spyOn(http, "request").mockImplementation(refuseAll("http"));
  vi.spyOn(https, "request").mockImplementation(refuseAll("https"));
  const ctx = {
    connectionId: "c1",
    tenantId: "t1",
    sourceType,
    resourceIds: ["octo"],
    config,
    secret,
    policy: makePolicy(),
    destinations: await catalogOnlyDestinations("t1", sourceType, config),
  };
  return adapter.healthCheck(ctx as never);
}

describe("vendor hosts over plain HTTP", () => {
  it("github with base_url http://api.github.com: refused before a byte is sent, the token never leaves", async () => {
    // the admission takes the URL (a self-hosted GitHub Enterprise may be at any https URL)…
    const parsed = parseConnectionIntent({
      source_type: "github",
      resource_ids: ["octo"],
      credential_locator: "consent:github",
      risk_level: "low",
      evidence: { status: "Sanctioned", source: "x", ts: "2026-11-20T09:00:00Z" },
      owner: { user: "a@example.com", confidence: 1, why: "x" },
      config: { org: "octo", base_url: "http://api.github.com" },
    });
    expect(parsed.ok).toBe(true);
    // …and the request layer refuses the vendor's host without TLS
    for (const base_url of ["http://api.github.com", "http://api.github.com:443", "http://API.GitHub.com./"]) {
      const r = await health("github", { org: "octo", base_url }, { access_token: "gho_SECRET_TOKEN_1234" });
      expect(r, base_url).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining("https only") } });
      expect(sent, base_url).toEqual([]);
    }
  });

  it("the same vendor host over https on another port is not the vendor's API: not approved, nothing sent", async () => {
    const r = await health("github", { org: "octo", base_url: "https://api.github.com:8443" }, { access_token: "gho_SECRET_TOKEN_1234" });
    expect(r).toMatchObject({ ok: false, error: { kind: "not_approved" } });
    expect(sent).toEqual([]);
  });
});

describe("a credential bound to one site or org is never sent to another of the vendor's hosts", () => {
  it("salesforce: a token issued for one org with config.base_url naming another org's host is refused, nothing sent", async () => {
    const r = await health(
      "salesforce",
      { base_url: "https://evil.my.salesforce.com" },
      { access_token: "00D_SECRET_TOKEN", instance_url: "https://acme.my.salesforce.com" },
      bindConnector("salesforce")!.adapter,
    );
    expect(r).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining("issued for the Salesforce org at acme.my.salesforce.com") } });
    expect(sent).toEqual([]);
  });

  it("jira: a 3LO token bound to its site's gateway with config.base_url naming another site is refused, nothing sent", async () => {
    const r = await health("jira", { site: "acme.atlassian.net", base_url: "https://other.atlassian.net" }, { access_token: "atl_SECRET_TOKEN", api_gateway: "https://api.atlassian.com/ex/jira/11223344-a1b2-3b33-c444-def123456789" });
    expect(r).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining("works only at its gateway (api.atlassian.com)") } });
    expect(sent).toEqual([]);
  });

  it("zendesk, servicenow, okta: config.base_url naming another customer's instance of the vendor is refused for any credential (a consent token too), nothing sent", async () => {
    // found in review: the consent token's endpoint check read the subdomain, and base_url moved the token to evil.zendesk.com (a vendor host by wildcard)
    const cases: [string, Record<string, unknown>][] = [
      ["zendesk", { subdomain: "acme", base_url: "https://evil.zendesk.com/api/v2" }],
      ["servicenow", { instance: "acme", base_url: "https://evil.service-now.com/api/now" }],
      ["okta", { domain: "acme.okta.com", base_url: "https://evil.okta.com/api/v1" }],
    ];
    for (const [sourceType, config] of cases) {
      const r = await health(sourceType, config, { access_token: "SECRET_CONSENT_TOKEN_42" });
      expect(r, sourceType).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining("names another instance of the") } });
      expect(sent, sourceType).toEqual([]);
    }
    // its own instance through base_url stays allowed as far as this check goes (the request is then attempted)
    const own = await health("zendesk", { subdomain: "acme", base_url: "https://ACME.zendesk.com/api/v2" }, { access_token: "SECRET_CONSENT_TOKEN_42" });
    expect(JSON.stringify(own)).not.toContain("names another instance");
  });
});

describe("config.base_url on a vendor host is the catalog's API base, never an endpoint the intent chose", () => {
  it("a query in base_url (slack.com/api/auth.revoke?x= — a GET that revokes the consented token) is refused, nothing sent", async () => {
    // found in the trust-boundary audit: the request went out as GET https://slack.com/api/auth.revoke?x=/auth.test with the tenant's token
    for (const base_url of ["https://slack.com/api/auth.revoke?x=", "https://slack.com/api?token=x", "https://slack.com/api#x"]) {
      const r = await health("slack", { base_url }, { access_token: "xoxb-SECRET-CONSENT-TOKEN" });
      expect(r, base_url).toMatchObject({ ok: false, error: { kind: "safe_mode", message: expect.stringContaining("may not carry a query or a fragment") } });
      expect(sent, base_url).toEqual([]);
    }
  });

  it("another path on the vendor's host (api.github.com/user/emails, slack.com/api/views.update) is another API: refused, nothing sent", async () => {
    const cases: [string, Record<string, unknown>][] = [
      ["github", { org: "octo", base_url: "https://api.github.com/user/emails" }],
      ["slack", { base_url: "https://slack.com/api/views.update" }],
      ["zendesk", { subdomain: "acme", base_url: "https://acme.zendesk.com/api/v2/users/me/oauth" }],
    ];
    for (const [sourceType, config] of cases) {
      const r = await health(sourceType, config, { access_token: "SECRET_CONSENT_TOKEN_42" });
      expect(r, sourceType).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining("with another path than the") } });
      expect(sent, sourceType).toEqual([]);
    }
    // the catalog's own base, spelled with a trailing slash or in capitals, is not refused by this check (the request is then attempted)
    for (const [sourceType, config] of [
      ["github", { org: "octo", base_url: "https://API.github.com/" }],
      ["slack", { base_url: "https://slack.com/api/" }],
    ] as const) {
      const r = await health(sourceType, { ...config }, { access_token: "SECRET_CONSENT_TOKEN_42" });
      expect(JSON.stringify(r), sourceType).not.toMatch(/another path than|query or a fragment/);
    }
  });

  it("salesforce: the instance URL is the org's origin — a path (an Apex REST endpoint) or a query on Salesforce's hosts is refused, nothing sent", async () => {
    const sf = bindConnector("salesforce")!.adapter;
    for (const [base_url, words] of [
      ["https://acme.my.salesforce.com/services/apexrest/purge", "with another path than the Salesforce API's"],
      ["https://acme.my.salesforce.com?x=", "may not carry a query or a fragment"],
    ] as const) {
      const r = await health("salesforce", { base_url }, { access_token: "00D_SECRET_TOKEN", instance_url: "https://acme.my.salesforce.com" }, sf);
      expect(r, base_url).toMatchObject({ ok: false, error: { message: expect.stringContaining(words) } });
      expect(sent, base_url).toEqual([]);
    }
  });

  it("a resource id of \".\" or \"..\" (a parent endpoint once in a URL path) is refused at admission", () => {
    for (const id of [".", "..", " .. "]) {
      const parsed = parseConnectionIntent({
        source_type: "gitlab",
        resource_ids: [id],
        scopes_mode: "safe_readonly",
        credential_locator: "consent:gitlab",
        risk_level: "low",
        evidence: { status: "Sanctioned", source: "x", ts: "2026-11-20T09:00:00Z" },
        owner: { user: "a@example.com", confidence: 1, why: "x" },
      });
      expect(parsed.ok, id).toBe(false);
      if (!parsed.ok) expect(parsed.issues, id).toEqual([expect.objectContaining({ path: "resource_ids.0", message: 'a resource id may not be "." or ".."' })]);
    }
  });
});
