/**
 * Per-vendor OAuth (issue 10 item 3): each quirky vendor's consent / refresh / client-credentials
 * flow completes against a local authorization server that answers with that vendor's documented
 * example responses, and sends what the vendor documents (client authentication, PKCE or not,
 * scope separator, extra parameters). The quirks come from the catalog entries only: the tests
 * point the provider's URLs at the local server (OAUTH_<P>_* / SP_<NAME>_TOKEN_URL), nothing else.
 * Needs DATABASE_URL (npm test provides one).
 */
import { waitingConnection as waitingConnectionOf } from "../helpers/waiting-connection";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getCatalogEntry } from "../../server/connectors/catalog";
import { connectionInstanceHost, instanceHostTemplate } from "../../server/credentials/oauth-app-repository";
import { completeConsent, consentProviderFor, startConsent, type ConsentFlowDeps, type ConsentProvider, type ProviderLookup } from "../../server/credentials/consent-flow";
import { loadCredential } from "../../server/credentials/credential-store";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";
import { resolveServicePrincipal } from "../../server/credentials/sp";
import type { TenantScope } from "../../server/credentials/tenant-scope";
import type { Db } from "../../server/db/client";
import { ok } from "../../server/lib/result";
import { createTestTenant, testDb } from "../helpers/db";
import { testEnv } from "../helpers/env";
import { basicAuth, startVendorServer, verifyRs256, type VendorServer } from "./vendor-server";

const REDIRECT = "http://aam.test/api/oauth/callback";
const ADMIN_ID = "00000000-0000-4000-8000-000000000002";
const key = parseEncryptionKey(randomBytes(32).toString("hex"));
let db: Db;
let vendor: VendorServer;
let tenantId: string;

beforeAll(async () => {
  db = testDb();
});
afterAll(async () => {
  await db?.$disconnect();
});
beforeEach(async () => {
  vendor = await startVendorServer();
  tenantId = await createTestTenant(db, "oauthv");
});
afterEach(async () => {
  await vendor.close();
  for (const k of Object.keys(testEnv)) if (k.startsWith("SP_VENDOR_")) delete testEnv[k];
});

/** The catalog entry's example config for its required fields, plus `over`. */
function exampleConfig(sourceType: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const e = getCatalogEntry(sourceType)!;
  return { ...Object.fromEntries(e.configFields.filter((f) => f.required).map((f) => [f.name, f.example])), ...over };
}

const waitingConnection = (sourceType: string, config: Record<string, unknown>) => waitingConnectionOf(db, tenantId, sourceType, config);

/** The catalog's quirks with the authorization server moved to the local one (the only override). */
/** The instance host a connection's config names (the catalog's token URL host, filled in). */
function instanceOfConfig(provider: string, config: Record<string, unknown>): string {
  const mode = getCatalogEntry(provider)!.authModes.find((m) => m.type === "oauth2" && m.grant === "authorization_code");
  return mode && mode.type === "oauth2" ? connectionInstanceHost(instanceHostTemplate(mode), config) : "";
}

function lookup(provider: string, clientId = "client-123", clientSecret = "secret/with+chars", over?: (p: ConsentProvider) => ConsentProvider): ProviderLookup {
  const P = provider.toUpperCase();
  const env = { [`OAUTH_${P}_CLIENT_ID`]: clientId, [`OAUTH_${P}_CLIENT_SECRET`]: clientSecret, [`OAUTH_${P}_AUTHORIZE_URL`]: `${vendor.url}/authorize`, [`OAUTH_${P}_TOKEN_URL`]: `${vendor.url}/token` };
  return (name, config) => {
    // the install's client of a per-instance vendor names its one instance: the connection's here
    const r = consentProviderFor(name, config, { ...env, [`OAUTH_${P}_INSTANCE`]: instanceOfConfig(name, config) });
    return r.ok && over ? ok(over(r.value)) : r;
  };
}

const depsFor = (providers: ProviderLookup, now?: () => Date): ConsentFlowDeps => ({ db, encryptionKey: key, enqueue: async () => {}, providers, ...(now ? { now } : {}) });

/** Start consent, play the approving admin (follow /authorize's redirect), finish consent. */
async function consent(sourceType: string, config: Record<string, unknown>, providers: ProviderLookup) {
  const id = await waitingConnection(sourceType, config);
  const deps = depsFor(providers);
  const started = await startConsent(deps, { tenantId, connectionId: id, userId: ADMIN_ID, userLabel: "admin@vendor.test", redirectUri: REDIRECT });
  if (!started.ok) throw new Error(started.error.message);
  const res = await fetch(started.value.url, { redirect: "manual" });
  const callback = res.headers.get("location")!;
  const done = await completeConsent(deps, { tenantId, userId: ADMIN_ID, callbackUrl: callback });
  return { id, authorize: new URL(started.value.url), done };
}

const stored = async (provider: string) => {
  const r = await loadCredential(db, key, tenantId, `consent:${provider}`, new Date());
  return r.ok ? r.value?.bundle : undefined;
};

describe("Slack (oauth.v2.access)", () => {
  // docs.slack.dev/reference/methods/oauth.v2.access — "Example response" (bot and user token)
  const DOCUMENTED = {
    ok: true,
    access_token: "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    token_type: "bot",
    scope: "commands,incoming-webhook",
    bot_user_id: "U0KRQLJ9H",
    app_id: "A0KRD7HC3",
    team: { name: "Slack Softball Team", id: "T9TK3CUKW" },
    enterprise: { name: "slack-sports", id: "E12345678" },
    authed_user: { id: "U1234", scope: "chat:write", access_token: "xoxp-1234", token_type: "user" },
  };

  it("completes consent although token_type is bot: HTTP Basic client auth, comma-separated scopes, no PKCE", async () => {
    vendor.route("POST", "/token", () => ({ json: DOCUMENTED }));
    const { authorize, done } = await consent("slack", exampleConfig("slack"), lookup("slack"));
    expect(done).toMatchObject({ ok: true });
    expect(authorize.searchParams.get("scope")).toBe("channels:read,users:read,team:read");
    expect(authorize.searchParams.has("code_challenge")).toBe(false);
    const [req] = vendor.at("/token");
    expect(basicAuth(req!)).toEqual({ user: "client-123", password: "secret/with+chars" });
    expect(req!.form.get("client_secret")).toBeNull();
    expect(req!.form.get("code_verifier")).toBeNull();
    expect(req!.form.get("grant_type")).toBe("authorization_code");
    const bundle = await stored("slack");
    expect(bundle).toMatchObject({ access_token: DOCUMENTED.access_token, token_type: "bot" });
  });

  it("turns Slack's HTTP 200 ok:false into a refusal in words", async () => {
    // docs.slack.dev/reference/methods/oauth.v2.access — "Errors": invalid_code
    vendor.route("POST", "/token", () => ({ json: { ok: false, error: "invalid_code" } }));
    const { done } = await consent("slack", exampleConfig("slack"), lookup("slack"));
    expect(done.ok).toBe(false);
    if (!done.ok) expect(done.error.message).toContain("invalid_code");
    expect(await stored("slack")).toBeUndefined();
  });
});

describe("Snowflake (oauth/token-request)", () => {
  it("asks for refresh_token (never a templated role), authenticates with HTTP Basic, and renews the 10-minute token", async () => {
    // docs.snowflake.com/en/user-guide/oauth-custom — token endpoint: example successful response
    vendor.route("POST", "/token", (r) =>
      r.form.get("grant_type") === "refresh_token"
        ? { json: { access_token: "ACCESS_TOKEN_2", expires_in: 600, token_type: "Bearer" } }
        : { json: { access_token: "ACCESS_TOKEN", expires_in: 600, refresh_token: "REFRESH_TOKEN", token_type: "Bearer", username: "user1", refresh_token_expires_in: 86399, idpInitiated: false } },
    );
    const config = exampleConfig("snowflake");
    const { id, authorize, done } = await consent("snowflake", config, lookup("snowflake"));
    expect(done).toMatchObject({ ok: true });
    expect(authorize.searchParams.get("scope")).toBe("refresh_token");
    expect(authorize.toString()).not.toContain("%7B%7B");
    for (const r of vendor.at("/token")) {
      expect(basicAuth(r)).toEqual({ user: "client-123", password: "secret/with+chars" });
      expect(r.form.get("client_secret")).toBeNull();
    }
    // eleven minutes later the resolver renews it with the refresh token, again with Basic
    const later = () => new Date(Date.now() + 11 * 60_000);
    const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: lookup("snowflake"), now: later });
    const r = await resolver.resolve("consent:snowflake", { tenantId, connectionId: id, sourceType: "snowflake", config });
    expect(r).toMatchObject({ ok: true, value: { access_token: "ACCESS_TOKEN_2", refresh_token: "REFRESH_TOKEN" } });
    const refresh = vendor.at("/token").find((x) => x.form.get("grant_type") === "refresh_token")!;
    expect(refresh.form.get("refresh_token")).toBe("REFRESH_TOKEN");
    expect(basicAuth(refresh)).not.toBeNull();
  });
});

describe("Google (OAuth 2.0 for web server apps)", () => {
  for (const sourceType of ["gcp_org", "bigquery", "gworkspace_drive"]) {
    it(`${sourceType}: access_type=offline + prompt=consent, PKCE, client_secret in the body; refresh completes`, async () => {
      // developers.google.com/identity/protocols/oauth2/web-server — Step 5 and "Refreshing an access token" example responses
      vendor.route("POST", "/token", (r) =>
        r.form.get("grant_type") === "refresh_token"
          ? { json: { access_token: "1/fFAGRNJru1FTz70BzhT3Zg", expires_in: 3920, scope: "https://www.googleapis.com/auth/drive.metadata.readonly https://www.googleapis.com/auth/calendar.readonly", token_type: "Bearer" } }
          : { json: { access_token: "1/fFAGRNJru1FTz70BzhT3Zg", expires_in: 3920, token_type: "Bearer", scope: "https://www.googleapis.com/auth/drive.metadata.readonly https://www.googleapis.com/auth/calendar.readonly", refresh_token: "1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI" } },
      );
      const config = exampleConfig(sourceType);
      const { id, authorize, done } = await consent(sourceType, config, lookup(sourceType));
      expect(done).toMatchObject({ ok: true });
      expect(authorize.searchParams.get("access_type")).toBe("offline");
      expect(authorize.searchParams.get("prompt")).toBe("consent");
      expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
      const [code] = vendor.at("/token");
      expect(code!.form.get("client_secret")).toBe("secret/with+chars");
      expect(code!.headers.authorization).toBeUndefined();
      expect(code!.form.get("code_verifier")).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
      expect((await stored(sourceType))?.refresh_token).toBe("1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI");
      const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: lookup(sourceType), now: () => new Date(Date.now() + 2 * 3600_000) });
      const r = await resolver.resolve(`consent:${sourceType}`, { tenantId, connectionId: id, sourceType, config });
      expect(r).toMatchObject({ ok: true, value: { access_token: "1/fFAGRNJru1FTz70BzhT3Zg", refresh_token: "1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI" } });
    });
  }
});

describe("Atlassian (OAuth 2.0 3LO + accessible-resources)", () => {
  // developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api — "A Jira site" example
  const SITES = [{ id: "1324a887-45db-1bf4-1e99-ef0ff456d421", name: "Site name", url: "https://your-domain.atlassian.net", scopes: ["write:jira-work", "read:jira-user", "manage:jira-configuration"], avatarUrl: "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png" }];
  const withLocalLookup = (p: ConsentProvider): ConsentProvider => ({ ...p, postConsent: { ...p.postConsent!, url: `${vendor.url}/oauth/token/accessible-resources` } });

  for (const [sourceType, product, suffix] of [["jira", "jira", ""], ["confluence", "confluence", ""]] as const) {
    it(`${sourceType}: the documented token response (no token_type) completes, the cloudId is looked up, and the API base is the gateway`, async () => {
      // developer.atlassian.com/cloud/oauth/getting-started/implementing-oauth-3lo — token response: access_token, expires_in, scope
      vendor.route("POST", "/token", () => ({ json: { access_token: "atlassian-at", expires_in: 3600, scope: "read:jira-work read:jira-user offline_access", refresh_token: "atlassian-rt" } }));
      vendor.route("GET", "/oauth/token/accessible-resources", (r) => (r.headers.authorization === "Bearer atlassian-at" ? { json: SITES } : { status: 401, json: { code: 401, message: "Unauthorized" } }));
      const config = exampleConfig(sourceType, { site: "your-domain.atlassian.net" });
      const { id, authorize, done } = await consent(sourceType, config, lookup(sourceType, "client-123", "s3cret", withLocalLookup));
      expect(done).toMatchObject({ ok: true });
      expect(authorize.searchParams.get("audience")).toBe("api.atlassian.com");
      expect(authorize.searchParams.get("prompt")).toBe("consent");
      expect(vendor.at("/token")[0]!.form.get("client_secret")).toBe("s3cret");
      const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: lookup(sourceType, "client-123", "s3cret", withLocalLookup) });
      const r = await resolver.resolve(`consent:${sourceType}`, { tenantId, connectionId: id, sourceType, config });
      expect(r).toEqual({ ok: true, value: expect.objectContaining({ access_token: "atlassian-at", api_gateway: `https://api.atlassian.com/ex/${product}/1324a887-45db-1bf4-1e99-ef0ff456d421${suffix}` }) });
      expect(r.ok && r.value.cloud_ids).toBeUndefined();
      // a site the grant does not reach gets no token
      const other = await resolver.resolve(`consent:${sourceType}`, { tenantId, connectionId: id, sourceType, config: { ...config, site: "other.atlassian.net" } });
      expect(other).toMatchObject({ ok: false, error: { kind: "consent_required", message: expect.stringContaining("does not cover the site other.atlassian.net") } });
    });
  }
});

describe("PagerDuty (OAuth 2.0 + OpenID ID token)", () => {
  it("accepts the id_token issuer PagerDuty documents, which is not the authorization server's origin", async () => {
    const clientId = "90b153bf-cfeb-4837-8b6a-864b7ff85656";
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const now = Math.floor(Date.now() / 1000);
    // developer.pagerduty.com/docs/pagerduty-openid-token — "sample decrypted payload" (times made current)
    const claims = {
      exp: now + 3600, nbf: now, jti: "a9fd43a4-b037-4eeb-98b0-40542e3b98ff", iss: "https://identity.pagerduty.com/global/oauth/anonymous",
      aud: ["https://api.pagerduty.com", clientId], sub: "example@pagerduty.com", auth_time: now, iat: now, purpose: "id", at_hash: "LMtFKMLYeFeziNtx9PJWHA",
      acr: "acr:html-form:unitedstates", delegation_id: "6566027d-7707-428f-8752-3ef971b78d1a", account_id: "P9JEHMK", user_id: "P8OGMIK", azp: clientId,
      amr: "acr:html-form:unitedstates", subdomain: "pdt-sample", region: "UnitedStates", sid: "Ldu2m7FqnP7cH6Gl",
    };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const input = `${b64({ alg: "RS256", kid: "1787345008", x5t: "_cqnMZZPApAtWy2VmuOV8uG9Tso" })}.${b64(claims)}`;
    const idToken = `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
    vendor.route("POST", "/token", () => ({ json: { access_token: "pdus+_0XBPWQQ_example", token_type: "bearer", expires_in: 864000, refresh_token: "pdus+_1XBPWQQ_example", scope: "services.read incidents.read users.read openid", id_token: idToken } }));
    const { done } = await consent("pagerduty", exampleConfig("pagerduty"), lookup("pagerduty", clientId));
    expect(done).toMatchObject({ ok: true });
    expect(vendor.at("/token")[0]!.form.get("client_secret")).toBe("secret/with+chars");
    // the same answer checked against the authorization server's origin (the old behaviour) is refused
    const tenantBefore = tenantId;
    tenantId = await createTestTenant(db, "oauthv");
    const wrong = await consent("pagerduty", exampleConfig("pagerduty"), lookup("pagerduty", clientId, "secret/with+chars", (p) => ({ ...p, issuer: new URL(p.authorizeUrl).origin })));
    expect(wrong.done.ok).toBe(false);
    expect(tenantBefore).not.toBe(tenantId);
  });
});

describe("Workday (OAuth 2.0 per tenant)", () => {
  it("authenticates with HTTP Basic on code exchange and refresh", async () => {
    // RFC 6749 §5.1 shape; Workday's token reference sits behind Workday Community (unverified example)
    vendor.route("POST", "/token", (r) => ({ json: r.form.get("grant_type") === "refresh_token" ? { access_token: "wd-at-2", token_type: "Bearer", expires_in: 3600 } : { access_token: "wd-at", token_type: "Bearer", expires_in: 3600, refresh_token: "wd-rt" } }));
    const config = exampleConfig("workday");
    const { id, done } = await consent("workday", config, lookup("workday"));
    expect(done).toMatchObject({ ok: true });
    const resolver = createCredentialResolver({ db, encryptionKey: key, consentProviders: lookup("workday"), now: () => new Date(Date.now() + 2 * 3600_000) });
    expect(await resolver.resolve("consent:workday", { tenantId, connectionId: id, sourceType: "workday", config })).toMatchObject({ ok: true, value: { access_token: "wd-at-2" } });
    for (const r of vendor.at("/token")) {
      expect(basicAuth(r)).toEqual({ user: "client-123", password: "secret/with+chars" });
      expect(r.form.get("client_secret")).toBeNull();
    }
  });
});

// ------------------------------------------------------------------ client credentials and JWT formats

const noDb = new Proxy({} as Db, {
  get: (_t, p) => {
    throw new Error(`database touched: ${String(p)}`);
  },
});
const SCOPE: TenantScope = { id: "t-default", slug: "default", isDefault: true, envKey: "DEFAULT" };
const spDeps = () => ({ db: noDb, now: () => new Date(), key: undefined, timeoutMs: 3_000, secrets: [] as string[], scope: SCOPE });
const pems = () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKey: publicKey.export({ type: "spki", format: "pem" }).toString() };
};

describe("Microsoft identity platform v2 (client credentials, tenant in the URL)", () => {
  for (const sourceType of ["entra", "m365_sharepoint", "azure_sub"]) {
    it(`${sourceType}: app-only sign-in at /<tenant>/oauth2/v2.0/token with the secret in the body and .default`, async () => {
      // learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow — "Successful response example"
      vendor.route("POST", "/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/token", () => ({ json: { token_type: "Bearer", expires_in: 3599, access_token: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik1uQ19WWmNBVGZNNXBP" } }));
      Object.assign(testEnv, { SP_VENDOR_APP_SOURCE_TYPES: "entra,m365_sharepoint,azure_sub,okta", SP_VENDOR_APP_CLIENT_ID: "535fb089-9ff3-47b6-9bfb-4f1264799865", SP_VENDOR_APP_CLIENT_SECRET: "sampleCredentia1s", SP_VENDOR_APP_TOKEN_URL: `${vendor.url}/{{config.tenant_id}}/oauth2/v2.0/token` });
      const b = (await import("../../server/connectors/binding")).bindConnector(sourceType)!;
      const r = await resolveServicePrincipal(spDeps(), "vendor-app", { tenantId: "t", connectionId: "c", sourceType, tokenUrl: b.tokenUrl, scopes: b.scopes, config: exampleConfig(sourceType, { tenant_id: "8eaef023-2b34-4da1-9baa-8bc8c9d6a490" }) });
      expect(r).toEqual({ ok: true, value: { access_token: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik1uQ19WWmNBVGZNNXBP", token_type: "bearer" } });
      const [req] = vendor.requests;
      expect(req!.form.get("grant_type")).toBe("client_credentials");
      expect(req!.form.get("client_secret")).toBe("sampleCredentia1s");
      expect(req!.form.get("scope")).toMatch(/^https:\/\/(graph\.microsoft\.com|management\.azure\.com)\/\.default$/);
    });
  }

  it("fills the catalog's login.microsoftonline.com/{tenant} template only with a plain tenant value", () => {
    const env = { OAUTH_ENTRA_CLIENT_ID: "c", OAUTH_ENTRA_CLIENT_SECRET: "s" };
    expect(consentProviderFor("entra", { tenant_id: "8eaef023-2b34-4da1-9baa-8bc8c9d6a490" }, env)).toMatchObject({ ok: true, value: { tokenUrl: "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/token", tokenAuth: "client_secret_post" } });
    expect(consentProviderFor("entra", { tenant_id: "evil.example/x?" }, env).ok).toBe(false);
  });
});

describe("Okta (private_key_jwt for okta.* scopes)", () => {
  it("signs a client assertion Okta's verifier accepts: RS256 with the app key, iss = sub = client_id, aud = token URL, exp < 1 h, jti", async () => {
    const { privateKey, publicKey } = pems();
    const tokenUrl = `${vendor.url}/oauth2/v1/token`;
    const seen = new Set<string>();
    vendor.route("POST", "/oauth2/v1/token", (r) => {
      // the verifier: what developer.okta.com … implement-oauth-for-okta-serviceapp requires
      const f = r.form;
      if (f.get("grant_type") !== "client_credentials" || f.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || f.get("client_secret")) return { status: 400, json: { error: "invalid_request" } };
      try {
        const { header, claims } = verifyRs256(f.get("client_assertion")!, publicKey);
        const ok = header.kid === "okta-kid-1" && claims.iss === "0oa1example" && claims.sub === "0oa1example" && claims.aud === tokenUrl && typeof claims.jti === "string" && !seen.has(claims.jti) && (claims.exp as number) - (claims.iat as number) < 3600;
        seen.add(String(claims.jti));
        if (!ok) return { status: 401, json: { error: "invalid_client", error_description: "The client_assertion token is invalid." } };
      } catch {
        return { status: 401, json: { error: "invalid_client", error_description: "The client_assertion signature is invalid." } };
      }
      // "Response example" of the token request
      return { json: { token_type: "Bearer", expires_in: 3600, access_token: "eyJraWQiOiJ-example", scope: f.get("scope") } };
    });
    Object.assign(testEnv, { SP_VENDOR_APP_SOURCE_TYPES: "entra,m365_sharepoint,azure_sub,okta", SP_VENDOR_APP_CLIENT_ID: "0oa1example", SP_VENDOR_APP_PRIVATE_KEY: privateKey, SP_VENDOR_APP_KEY_ID: "okta-kid-1", SP_VENDOR_APP_TOKEN_URL: tokenUrl });
    const b = (await import("../../server/connectors/binding")).bindConnector("okta")!;
    const ctx = { tenantId: "t", connectionId: "c", sourceType: "okta", tokenUrl: b.tokenUrl, scopes: b.scopes, config: exampleConfig("okta") };
    expect(await resolveServicePrincipal(spDeps(), "vendor-app", ctx)).toEqual({ ok: true, value: { access_token: "eyJraWQiOiJ-example", token_type: "bearer" } });
    expect(vendor.requests[0]!.form.get("scope")).toBe("okta.apps.read okta.groups.read okta.users.read");
    // a client secret alone is refused in words, before anything is sent
    delete testEnv.SP_VENDOR_APP_PRIVATE_KEY;
    testEnv.SP_VENDOR_APP_CLIENT_SECRET = "not-for-okta-scopes";
    const r = await resolveServicePrincipal(spDeps(), "vendor-app", ctx);
    expect(r).toMatchObject({ ok: false, error: { kind: "missing", message: expect.stringContaining("private_key_jwt") } });
    expect(vendor.requests).toHaveLength(1);
  });
});
