/**
 * Token-request quirks that come from the catalog entry only (oauth-quirks.ts):
 *  - Zendesk's token endpoint (oas.yaml CreateTokenForGrantType, POST /oauth/tokens) takes its
 *    parameters as a JSON body: consent and refresh complete against a local authorization server
 *    that accepts ONLY a JSON body, and the same server refuses the RFC 6749 form body every other
 *    vendor gets.
 *  - Workday names no endpoint in the catalog (endpoints: oauth_app): they come from the tenant's
 *    per-instance OAuth app, and the authorization request asks for no scope.
 * Needs DATABASE_URL (npm test provides one).
 */
import { waitingConnection as waitingConnectionOf } from "../../tests/helpers/waiting-connection";
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CATALOG, getCatalogEntry } from "../connectors/catalog";
import type { Db } from "../db/client";
import { ok } from "../lib/result";
import { createTestTenant, testDb } from "../../tests/helpers/db";
import { basicAuth, startVendorServer, type Recorded, type VendorServer } from "../../tests/oauth/vendor-server";
import { completeConsent, consentProviderFor, startConsent, tenantConsentProviders, type ConsentFlowDeps, type ConsentProvider, type ProviderLookup } from "./consent-flow";
import { loadCredential } from "./credential-store";
import { parseEncryptionKey } from "./crypto";
import { addOAuthApp, oauthProviders, connectionInstanceHost, instanceHostTemplate } from "./oauth-app-repository";
import { jsonBodyFetch } from "./oauth-quirks";
import { createCredentialResolver } from "./resolver";

const REDIRECT = "http://aam.test/api/oauth/callback";
const ADMIN_ID = "00000000-0000-4000-8000-000000000003";
const admin = { id: null, label: "admin@body.test" };
const key = parseEncryptionKey(randomBytes(32).toString("hex"));
let db: Db;
let vendor: VendorServer;
let tenantId: string;

beforeAll(() => {
  db = testDb();
});
afterAll(async () => {
  await db?.$disconnect();
});
beforeEach(async () => {
  vendor = await startVendorServer();
  tenantId = await createTestTenant(db, "tokbody");
});
afterEach(async () => {
  await vendor.close();
});

const exampleConfig = (sourceType: string): Record<string, unknown> =>
  Object.fromEntries(getCatalogEntry(sourceType)!.configFields.filter((f) => f.required).map((f) => [f.name, f.example]));

const waitingConnection = (sourceType: string, config: Record<string, unknown>) => waitingConnectionOf(db, tenantId, sourceType, config);

/** The catalog's quirks with only the authorization server moved to the local one (OAUTH_<P>_*). */
/** The instance host a connection's config names (the catalog's token URL host, filled in). */
function instanceOfConfig(provider: string, config: Record<string, unknown>): string {
  const mode = getCatalogEntry(provider)!.authModes.find((m) => m.type === "oauth2" && m.grant === "authorization_code");
  return mode && mode.type === "oauth2" ? connectionInstanceHost(instanceHostTemplate(mode), config) : "";
}

function lookup(provider: string, tokenPath: string, over?: (p: ConsentProvider) => ConsentProvider): ProviderLookup {
  const P = provider.toUpperCase();
  const env = { [`OAUTH_${P}_CLIENT_ID`]: "client-123", [`OAUTH_${P}_CLIENT_SECRET`]: "secret/with+chars", [`OAUTH_${P}_AUTHORIZE_URL`]: `${vendor.url}/authorize`, [`OAUTH_${P}_TOKEN_URL`]: `${vendor.url}${tokenPath}` };
  return (name, config) => {
    // the install's client of a per-instance vendor names its one instance: the connection's here
    const r = consentProviderFor(name, config, { ...env, [`OAUTH_${P}_INSTANCE`]: instanceOfConfig(name, config) });
    return r.ok && over ? ok(over(r.value)) : r;
  };
}

const depsFor = (providers: ProviderLookup): ConsentFlowDeps => ({ db, encryptionKey: key, enqueue: async () => {}, providers });

async function consent(sourceType: string, config: Record<string, unknown>, providers: ProviderLookup) {
  const id = await waitingConnection(sourceType, config);
  const deps = depsFor(providers);
  const started = await startConsent(deps, { tenantId, connectionId: id, userId: ADMIN_ID, userLabel: "admin@body.test", redirectUri: REDIRECT });
  if (!started.ok) throw new Error(started.error.message);
  const res = await fetch(started.value.url, { redirect: "manual" });
  const done = await completeConsent(deps, { tenantId, userId: ADMIN_ID, callbackUrl: res.headers.get("location")! });
  return { id, authorize: new URL(started.value.url), done };
}

/**
 * Zendesk's POST /oauth/tokens as its description states it (oas.yaml CreateTokenForGrantType):
 * a JSON request body with grant_type, code, client_id, client_secret, redirect_uri, code_verifier
 * (or refresh_token). Anything else — a form body included — is refused.
 */
function zendeskTokens(r: Recorded) {
  if (!String(r.headers["content-type"] ?? "").startsWith("application/json") || !r.json || typeof r.json !== "object") {
    return { status: 400, json: { error: "invalid_request", error_description: "the request body must be JSON" } };
  }
  const b = r.json as Record<string, string>;
  if (b.client_id !== "client-123" || b.client_secret !== "secret/with+chars") return { status: 401, json: { error: "invalid_client", error_description: "client authentication failed" } };
  if (b.grant_type === "authorization_code" && b.code && b.redirect_uri === REDIRECT && b.code_verifier) {
    return { json: { access_token: "zd-access-1", token_type: "bearer", scope: "read", refresh_token: "zd-refresh-1", expires_in: 600 } };
  }
  if (b.grant_type === "refresh_token" && b.refresh_token === "zd-refresh-1") return { json: { access_token: "zd-access-2", token_type: "bearer", scope: "read", refresh_token: "zd-refresh-2", expires_in: 600 } };
  return { status: 400, json: { error: "invalid_grant", error_description: "unknown grant" } };
}

describe("Zendesk: the token request is a JSON body (oas.yaml CreateTokenForGrantType)", () => {
  it("completes consent and the refresh against a server that accepts only JSON, with the client credentials in the JSON body", async () => {
    vendor.route("POST", "/oauth/tokens", zendeskTokens);
    const config = exampleConfig("zendesk");
    const { id, done } = await consent("zendesk", config, lookup("zendesk", "/oauth/tokens"));
    expect(done).toMatchObject({ ok: true });
    const [code] = vendor.at("/oauth/tokens");
    expect(code!.headers["content-type"]).toMatch(/^application\/json/);
    expect(code!.json).toMatchObject({ grant_type: "authorization_code", client_id: "client-123", client_secret: "secret/with+chars", redirect_uri: REDIRECT });
    expect(basicAuth(code!)).toBeNull();
    expect(code!.form.toString()).toBe("");
    const stored = await loadCredential(db, key, tenantId, "consent:zendesk", new Date());
    expect(stored.ok && stored.value?.bundle).toMatchObject({ access_token: "zd-access-1", refresh_token: "zd-refresh-1" });
    // eleven minutes later the resolver renews it, again as JSON
    const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: lookup("zendesk", "/oauth/tokens"), now: () => new Date(Date.now() + 11 * 60_000) });
    const r = await resolver.resolve("consent:zendesk", { tenantId, connectionId: id, sourceType: "zendesk", config });
    expect(r).toMatchObject({ ok: true, value: { access_token: "zd-access-2", refresh_token: "zd-refresh-2" } });
    const refresh = vendor.at("/oauth/tokens").find((x) => (x.json as { grant_type?: string } | undefined)?.grant_type === "refresh_token")!;
    expect(refresh.json).toMatchObject({ refresh_token: "zd-refresh-1", client_id: "client-123", client_secret: "secret/with+chars" });
  });

  it("the same server refuses the RFC 6749 form body, so without the quirk consent fails in words and nothing is stored", async () => {
    vendor.route("POST", "/oauth/tokens", zendeskTokens);
    const { done } = await consent("zendesk", exampleConfig("zendesk"), lookup("zendesk", "/oauth/tokens", (p) => ({ ...p, tokenRequestBody: undefined })));
    expect(done.ok).toBe(false);
    if (!done.ok) expect(done.error.message).toContain("the request body must be JSON");
    const [req] = vendor.at("/oauth/tokens");
    expect(req!.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req!.form.get("client_secret")).toBe("secret/with+chars");
    const stored = await loadCredential(db, key, tenantId, "consent:zendesk", new Date());
    expect(stored.ok && stored.value).toBeFalsy();
  });

  it("is data in Zendesk's entry alone: every other vendor keeps the form body", async () => {
    const json = Object.values(CATALOG).filter((e) => e.authModes.some((m) => m.type === "oauth2" && m.tokenRequestBody === "json"));
    expect(json.map((e) => e.sourceType)).toEqual(["zendesk"]);
    const seen: { body: unknown; type: string | null }[] = [];
    const inner = async (_u: string | URL, init?: { body?: unknown; headers?: Record<string, string> | Headers }) => {
      seen.push({ body: init?.body, type: new Headers(init?.headers as HeadersInit | undefined).get("content-type") });
      return new Response("{}");
    };
    const form = new URLSearchParams({ grant_type: "authorization_code", code: "c" });
    await jsonBodyFetch(inner, "form")("https://x.example/token", { body: form, headers: { "content-type": "application/x-www-form-urlencoded" } });
    await jsonBodyFetch(inner, undefined)("https://x.example/token", { body: form, headers: { "content-type": "application/x-www-form-urlencoded" } });
    await jsonBodyFetch(inner, "json")("https://x.example/token", { body: form, headers: { "content-type": "application/x-www-form-urlencoded", authorization: "Basic eDp5" } });
    expect(seen[0]).toEqual({ body: form, type: "application/x-www-form-urlencoded" });
    expect(seen[1]).toEqual({ body: form, type: "application/x-www-form-urlencoded" });
    expect(seen[2]).toEqual({ body: JSON.stringify({ grant_type: "authorization_code", code: "c" }), type: "application/json" });
  });
});

describe("Workday: the endpoints are the tenant's OAuth app, not the catalog's (endpoints: oauth_app)", () => {
  const config = { host: "wd2-impl-services1.workday.com", rest_path: "/ccx/api/v1/acme" };
  const app = { provider: "workday", instanceHost: "wd2-impl-services1.workday.com", clientId: "wd-client", clientSecret: "wd-secret", authorizeUrl: "https://impl.workday.com/acme/authorize", tokenUrl: "https://wd2-impl-services1.workday.com/ccx/oauth2/acme/token" };

  it("takes both URLs from the app registered for the connection's host; without one it says in words where to add it", async () => {
    const before = await tenantConsentProviders(db, key, {})("workday", config, tenantId);
    expect(before.ok).toBe(false);
    if (!before.ok) expect(before.error).toMatch(/Settings → OAuth apps/);
    expect(await addOAuthApp(db, key, tenantId, admin, app)).toMatchObject({ ok: true });
    const p = await tenantConsentProviders(db, key, {})("workday", config, tenantId);
    expect(p).toMatchObject({ ok: true, value: { authorizeUrl: app.authorizeUrl, tokenUrl: app.tokenUrl, clientId: "wd-client", scopes: [], tokenAuth: "client_secret_basic" } });
    // Settings says both URLs are needed, and which host the app is for
    expect(oauthProviders().find((x) => x.sourceType === "workday")).toMatchObject({ perInstance: true, instanceHint: "<host>", endpointsRequired: true });
    expect(oauthProviders().filter((x) => x.endpointsRequired).map((x) => x.sourceType)).toEqual(["workday"]);
    // another host of the same tenant has no app
    expect((await tenantConsentProviders(db, key, {})("workday", { ...config, host: "wd5-services1.myworkday.com" }, tenantId)).ok).toBe(false);
  });

  it("refuses an app without both endpoints, a token URL off the instance host, and an authorization URL off Workday's hosts", async () => {
    for (const [over, words] of [
      [{ authorizeUrl: undefined }, "enter both URLs"],
      [{ tokenUrl: undefined }, "enter both URLs"],
      [{ tokenUrl: "https://impl.workday.com/ccx/oauth2/acme/token" }, "instance host"],
      [{ authorizeUrl: "https://evil.example/acme/authorize" }, "instance host"],
      [{ authorizeUrl: "https://impl.workday.com.evil.example/acme/authorize" }, "instance host"],
    ] as const) {
      expect(await addOAuthApp(db, key, tenantId, admin, { ...app, ...over }), JSON.stringify(over)).toMatchObject({ ok: false, error: { code: "INVALID", message: expect.stringContaining(words) } });
    }
  });

  it("asks for no scope: the functional areas are those of the API client the admin registered", async () => {
    vendor.route("POST", "/token", () => ({ json: { access_token: "wd-at", token_type: "Bearer", expires_in: 3600, refresh_token: "wd-rt" } }));
    const { authorize, done } = await consent("workday", exampleConfig("workday"), lookup("workday", "/token"));
    expect(done).toMatchObject({ ok: true });
    expect(authorize.searchParams.has("scope")).toBe(false);
    expect(basicAuth(vendor.at("/token")[0]!)).toEqual({ user: "client-123", password: "secret/with+chars" });
  });
});
