/**
 * `sp:<name>`: a service principal that gets an access token by the OAuth 2.0 client-credentials
 * grant (oauth4webapi). Names are per tenant (tenant-scope.ts): client id and secret come from
 * SP_<NAME>_CLIENT_ID / _CLIENT_SECRET for the install's default tenant and from
 * SP_<TENANT>__<NAME>_CLIENT_ID / _CLIENT_SECRET for any other tenant, and serve only the connectors
 * listed in its _SOURCE_TYPES (the intent names the source type: an unbound principal is used for
 * none, so its secret never reaches another vendor's token endpoint). The token URL is the
 * catalog entry's (filled only with config values that cannot move it to another party,
 * token-endpoint.ts) or the operator's SP_<…>_TOKEN_URL, never the connection's config; the
 * request is pinned to the address the egress guard vetted. The token is cached encrypted in the
 * credentials table until 60 s before it expires, so workers on other machines share it.
 *
 * A tenant's OAuth app registered for `sp:<name>` (Settings page, oauth-app-repository.ts) is used
 * before the SP_* variables. Besides a client secret, a principal may hold a private key, and then
 * the entry's service-account format decides (jwt-assertion.ts):
 *  - google_jwt: SP_<…>_KEY_JSON (the key file) → JWT bearer grant at the catalog token URL,
 *    optional SP_<…>_SUBJECT for domain-wide delegation;
 *  - snowflake_keypair_jwt: SP_<…>_PRIVATE_KEY + SP_<…>_USER → a key-pair JWT used as the token;
 *  - private_key_jwt (Okta okta.* scopes, catalog tokenAuth): SP_<…>_CLIENT_ID + SP_<…>_PRIVATE_KEY
 *    (+ SP_<…>_KEY_ID) → client credentials with a signed client assertion.
 */
import { createHash } from "node:crypto";
import * as oauth from "oauth4webapi";
import type { Db } from "../db/client";
import { lookupEnvVar } from "../env";
import { err, ok, type Result } from "../lib/result";
import { loadCredential, storeCredential } from "./credential-store";
import { redact } from "./redact";
import type { EncryptionKey } from "./crypto";
import { getCatalogEntry } from "../connectors/catalog";
import { googleServiceAccountAssertion, JWT_BEARER_GRANT, parseGoogleKey, snowflakeKeypairJwt, type GoogleServiceAccountKey } from "./jwt-assertion";
import { connectionInstanceHost, type ResolvedOAuthApp } from "./oauth-app-repository";
import { clientAuth, QuirkError, type TokenAuthMethod } from "./oauth-quirks";
import { spEnvStem, type TenantScope } from "./tenant-scope";
import { fillAuthServerUrl, pinnedTokenFetch, type AuthServerOrigin } from "./token-endpoint";
import type { CredentialFailure, ResolveContext, SecretBundle } from "./types";

export const SP_TOKEN_KIND = "sp_token";
const EXPIRY_MARGIN_S = 60;

export type ServicePrincipalDeps = {
  db: Db;
  now: () => Date;
  /** undefined: no encryption key configured, so tokens are fetched every time and never stored */
  key: EncryptionKey | undefined;
  timeoutMs: number;
  /** filled with the client secret once known, so the caller can redact it from any message */
  secrets: string[];
  /** the caller's tenant: which SP_* variables this tenant's sp: names read */
  scope: TenantScope;
  /** the tenant's OAuth app for sp:<name> of this source type (Settings page); absent → SP_* only */
  apps?: (provider: string, principal: string, instanceHost: string) => Promise<Result<ResolvedOAuthApp | null, string>>;
};

/** What a principal holds: from the tenant's OAuth app or the SP_* variables. */
type Material = {
  /** the source types an SP_* principal serves (SP_<…>_SOURCE_TYPES); an OAuth app serves its own provider */
  sourceTypes?: string[]; clientId?: string; clientSecret?: string; privateKey?: string; keyId?: string; googleKey?: GoogleServiceAccountKey; subject?: string; user?: string; tokenUrl?: string; origin: AuthServerOrigin; from: string };

const isPrivateKey = (v: string) => /-----BEGIN (RSA |ENCRYPTED )?PRIVATE KEY-----/.test(v.replace(/\\n/g, "\n"));

/** The SP_* stem for the install's default tenant (SP_FILES_SYNC for files-sync). */
export function spEnvPrefix(name: string): string {
  return `SP_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

const missing = (message: string): CredentialFailure => ({ kind: "missing", message });
const unreadable = (message: string): CredentialFailure => ({ kind: "unreadable", message });

export async function resolveServicePrincipal(deps: ServicePrincipalDeps, name: string, ctx: ResolveContext): Promise<Result<SecretBundle, CredentialFailure>> {
  const r = await fetchOrReuseToken(deps, name, ctx);
  return r.ok ? r : err({ kind: r.error.kind, message: redact(r.error.message, deps.secrets) });
}

async function fetchOrReuseToken(deps: ServicePrincipalDeps, name: string, ctx: ResolveContext): Promise<Result<SecretBundle, CredentialFailure>> {
  const stem = spEnvStem(name, deps.scope);
  if (!stem.ok) return err(missing(stem.error));
  const prefix = stem.value;
  const entry = getCatalogEntry(ctx.sourceType);
  const formats = new Set(entry?.authModes.flatMap((m) => (m.type === "service_account" ? [m.format] : [])) ?? []);
  const ccMode = entry?.authModes.find((m) => m.type === "oauth2" && m.grant === "client_credentials" && (!ctx.tokenUrl || m.tokenUrl === ctx.tokenUrl));
  const material = await principalMaterial(deps, name, prefix, ctx);
  if (!material.ok) return material;
  const m = material.value;
  for (const v of [m.clientSecret, m.privateKey, m.googleKey?.private_key]) if (v) deps.secrets.push(v);
  // The intent names the source type, and with it the token URL and the hosts the token goes to:
  // a principal the operator set up for one vendor must never be sent to another (an Entra app's
  // secret to a ServiceNow instance the intent chose). Checked before any cached token is read.
  if (m.from === "env" && (m.clientId || m.privateKey || m.googleKey)) {
    if (!m.sourceTypes?.length) {
      return err(missing(`service principal ${name} does not say which connectors it serves: set ${prefix}_SOURCE_TYPES (e.g. ${ctx.sourceType}); until then it is used for none`));
    }
    if (!m.sourceTypes.includes(ctx.sourceType)) {
      return err(missing(`service principal ${name} serves ${m.sourceTypes.join(", ")}, not ${entry?.displayName ?? ctx.sourceType} (${prefix}_SOURCE_TYPES): it is never sent to another connector's hosts`));
    }
  }

  // Snowflake key-pair: the signed JWT is the token itself (nothing is sent anywhere to get it)
  if (m.privateKey && formats.has("snowflake_keypair_jwt")) {
    const account = typeof ctx.config.account === "string" ? ctx.config.account : "";
    if (!account || !m.user) return err(missing(`service principal ${name}: a Snowflake key pair needs the connection's account and the user (${m.from === "env" ? `${prefix}_USER` : "the OAuth app's client id"})`));
    const jwt = snowflakeKeypairJwt({ account, user: m.user, privateKey: m.privateKey, now: deps.now() });
    if (!jwt.ok) return err(unreadable(`service principal ${name}: ${jwt.error}`));
    return ok({ access_token: jwt.value.token, token_type: "KEYPAIR_JWT" });
  }
  const google = m.googleKey && formats.has("google_jwt") ? m.googleKey : undefined;
  const method: TokenAuthMethod | "google_jwt" = google
    ? "google_jwt"
    : m.privateKey
      ? "private_key_jwt"
      : ccMode?.type === "oauth2" && ccMode.tokenAuth === "private_key_jwt"
        ? "private_key_jwt"
        : ctx.config.token_auth_method === "client_secret_post" || (ccMode?.type === "oauth2" && ccMode.tokenAuth === "client_secret_post") || isAzureSecret(entry, ctx.tokenUrl)
          ? "client_secret_post"
          : "client_secret_basic";
  if (method === "private_key_jwt" && !m.privateKey) {
    return err(missing(`service principal ${name}: ${entry?.displayName ?? ctx.sourceType} requires a private-key JWT client assertion (private_key_jwt) for these scopes, not a client secret: set ${prefix}_PRIVATE_KEY (and ${prefix}_KEY_ID) or register the key as the organisation's OAuth app`));
  }
  const clientId = google ? google.client_email : m.clientId;
  if (!clientId || (method !== "google_jwt" && method !== "private_key_jwt" && !m.clientSecret)) {
    return err(missing(`service principal ${name} is not configured for this organisation: set ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET`));
  }

  // The client secret goes only to the operator's token URL for this principal or the catalog's for this source type.
  const operatorUrl = m.tokenUrl;
  const origin: AuthServerOrigin = operatorUrl ? m.origin : "catalog";
  const template = operatorUrl ?? ctx.tokenUrl;
  if (!template) return err(missing(`service principal ${name} has no token URL: the ${ctx.sourceType} catalog entry has none, so an operator must set ${prefix}_TOKEN_URL`));
  const filled = fillAuthServerUrl({ label: "token URL", template, sourceType: ctx.sourceType, config: ctx.config, hint: `set ${prefix}_TOKEN_URL` });
  if (!filled.ok) return err(missing(`service principal ${name}: ${filled.error}`));
  const tokenUrl = filled.value;
  const insecure = tokenUrl.protocol === "http:";

  const scopes = [...new Set(ctx.scopes ?? [])].sort();
  // One cache row per (client, token endpoint, scopes): the same principal asked for other
  // scopes or at another endpoint must not get this token.
  const fingerprint = createHash("sha256").update(JSON.stringify([clientId, tokenUrl.href, scopes, m.subject ?? ""])).digest("hex").slice(0, 16);
  const cacheLocator = `sp:${name}@${fingerprint}`;
  if (deps.key) {
    const cached = await loadCredential(deps.db, deps.key, ctx.tenantId, cacheLocator, deps.now());
    // An undecryptable cache row (key rotated) is simply replaced below.
    if (cached.ok && cached.value?.bundle.access_token) return ok(pick(cached.value.bundle));
  }

  const as: oauth.AuthorizationServer = { issuer: tokenUrl.origin, token_endpoint: tokenUrl.href };
  const client: oauth.Client = { client_id: clientId };
  const options = { signal: AbortSignal.timeout(deps.timeoutMs), [oauth.customFetch]: pinnedTokenFetch({ origin }), [oauth.allowInsecureRequests]: insecure };
  let token: oauth.TokenEndpointResponse;
  try {
    let response: Response;
    if (method === "google_jwt") {
      // RFC 7523 §2.1: the assertion is the grant; the client does not authenticate otherwise
      const assertion = googleServiceAccountAssertion({ key: google!, scopes, audience: tokenUrl.href, subject: m.subject, now: deps.now() });
      if (!assertion.ok) return err(unreadable(`service principal ${name}: ${assertion.error}`));
      response = await oauth.genericTokenEndpointRequest(as, client, () => {}, JWT_BEARER_GRANT, new URLSearchParams({ assertion: assertion.value }), options);
    } else {
      const auth = clientAuth(method, method === "private_key_jwt" ? m.privateKey! : m.clientSecret!, { clientId, tokenUrl: tokenUrl.href, keyId: m.keyId, now: deps.now });
      const params = new URLSearchParams();
      if (scopes.length) params.set("scope", scopes.join(" "));
      response = await oauth.clientCredentialsGrantRequest(as, client, auth, params, options);
    }
    token = method === "google_jwt" ? await oauth.processGenericTokenEndpointResponse(as, client, response) : await oauth.processClientCredentialsResponse(as, client, response);
  } catch (e) {
    return err(unreadable(describeTokenError(name, e, deps.timeoutMs)));
  }

  const bundle = { access_token: token.access_token, token_type: token.token_type ?? "bearer" };
  const expiresIn = typeof token.expires_in === "number" ? token.expires_in : 0;
  // Without expires_in we cannot know when to stop reusing it, so it is not cached.
  if (deps.key && expiresIn > EXPIRY_MARGIN_S) {
    const expiresAt = new Date(deps.now().getTime() + (expiresIn - EXPIRY_MARGIN_S) * 1000);
    await storeCredential(deps.db, deps.key, { tenantId: ctx.tenantId, locator: cacheLocator, kind: SP_TOKEN_KIND, bundle, expiresAt });
  }
  return ok(bundle);
}

/** The principal's client and keys: the tenant's OAuth app for sp:<name>, else the SP_* variables. */
async function principalMaterial(deps: ServicePrincipalDeps, name: string, prefix: string, ctx: ResolveContext): Promise<Result<Material, CredentialFailure>> {
  if (deps.apps) {
    const host = connectionInstanceHost(ctx.tokenUrl, ctx.config);
    const app = await deps.apps(ctx.sourceType, name, host);
    if (!app.ok) return err(unreadable(app.error));
    if (app.value) {
      const a = app.value;
      const google = a.secret.trimStart().startsWith("{") ? parseGoogleKey(a.secret) : undefined;
      if (google && !google.ok) return err(unreadable(`service principal ${name}: ${google.error}`));
      return ok({
        clientId: a.clientId,
        ...(google?.ok ? { googleKey: google.value, subject: a.assertionKeyId } : isPrivateKey(a.secret) ? { privateKey: a.secret, keyId: a.assertionKeyId, user: a.clientId } : { clientSecret: a.secret }),
        ...(a.tokenUrl ? { tokenUrl: a.tokenUrl } : {}),
        origin: "catalog",
        from: "app",
      });
    }
  }
  const v = (k: string) => lookupEnvVar(`${prefix}_${k}`);
  const keyJson = v("KEY_JSON");
  let googleKey: GoogleServiceAccountKey | undefined;
  if (keyJson) {
    deps.secrets.push(keyJson);
    const g = parseGoogleKey(keyJson);
    if (!g.ok) return err(unreadable(`service principal ${name}: ${g.error}`));
    googleKey = g.value;
  }
  const privateKey = v("PRIVATE_KEY");
  return ok({
    clientId: v("CLIENT_ID"),
    clientSecret: v("CLIENT_SECRET"),
    ...(privateKey ? { privateKey } : {}),
    ...(v("KEY_ID") ? { keyId: v("KEY_ID") } : {}),
    ...(googleKey ? { googleKey } : {}),
    ...(v("SUBJECT") ? { subject: v("SUBJECT") } : {}),
    ...(v("USER") ? { user: v("USER") } : {}),
    ...(v("TOKEN_URL") ? { tokenUrl: v("TOKEN_URL") } : {}),
    sourceTypes: (v("SOURCE_TYPES") ?? "")
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
    origin: "operator",
    from: "env",
  });
}

/** Microsoft's client-credentials request carries client_secret in the body (v2-oauth2-client-creds-grant-flow, "First case: access token request with a shared secret"). */
function isAzureSecret(entry: ReturnType<typeof getCatalogEntry>, tokenUrl: string | undefined): boolean {
  return !!entry?.authModes.some((m) => m.type === "service_account" && m.format === "azure_client_secret" && m.tokenUrl === tokenUrl);
}

function pick(b: SecretBundle): SecretBundle {
  return { access_token: b.access_token!, token_type: b.token_type ?? "bearer" };
}

function describeTokenError(name: string, e: unknown, timeoutMs: number): string {
  if (e instanceof oauth.ResponseBodyError) {
    if (e.error === "invalid_client" || e.status === 401) return `service principal ${name} was rejected by the token endpoint (invalid_client: check its client id and secret)`;
    return `token endpoint refused service principal ${name} (${e.error}, HTTP ${e.status})`;
  }
  if (e instanceof oauth.WWWAuthenticateChallengeError) {
    // A 401 with WWW-Authenticate (client_secret_basic refused) carries the OAuth error in the challenge.
    const error = e.cause.map((c) => c.parameters.error).find(Boolean);
    if (error === "invalid_client" || e.status === 401) return `service principal ${name} was rejected by the token endpoint (invalid_client: check its client id and secret)`;
    return `token endpoint refused service principal ${name} (${error ?? "challenge"}, HTTP ${e.status})`;
  }
  if (e instanceof QuirkError) return `service principal ${name}: ${e.message}`;
  const error = e as Error & { cause?: { code?: string; message?: string } };
  if (error?.name === "TimeoutError" || error?.name === "AbortError") return `token endpoint did not answer within ${timeoutMs / 1000} s`;
  if (error?.name === "EgressRefusedError") return error.message;
  if (error instanceof TypeError && error.cause) return `token endpoint is unreachable (${error.cause.code ?? error.cause.message ?? "network error"})`;
  return `token endpoint answered unexpectedly for service principal ${name} (${error?.message ?? String(e)})`;
}
