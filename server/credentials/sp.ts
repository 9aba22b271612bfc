/**
 * `sp:<name>`: a service principal that gets an access token by the OAuth 2.0 client-credentials
 * grant (oauth4webapi). Names are per tenant (tenant-scope.ts): client id and secret come from
 * SP_<NAME>_CLIENT_ID / _CLIENT_SECRET for the install's default tenant and from
 * SP_<TENANT>__<NAME>_CLIENT_ID / _CLIENT_SECRET for any other tenant. The token URL is the
 * catalog entry's (filled only with config values that cannot move it to another party,
 * token-endpoint.ts) or the operator's SP_<…>_TOKEN_URL, never the connection's config; the
 * request is pinned to the address the egress guard vetted. The token is cached encrypted in the
 * credentials table until 60 s before it expires, so workers on other machines share it.
 */
import { createHash } from "node:crypto";
import * as oauth from "oauth4webapi";
import type { Db } from "../db/client";
import { lookupEnvVar } from "../env";
import { err, ok, type Result } from "../lib/result";
import { loadCredential, storeCredential } from "./credential-store";
import { redact } from "./redact";
import type { EncryptionKey } from "./crypto";
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
};

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
  const clientId = lookupEnvVar(`${prefix}_CLIENT_ID`);
  const clientSecret = lookupEnvVar(`${prefix}_CLIENT_SECRET`);
  if (clientSecret) deps.secrets.push(clientSecret);
  if (!clientId || !clientSecret) return err(missing(`service principal ${name} is not configured for this organisation: set ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET`));

  // The client secret goes only to the operator's token URL for this principal or the catalog's for this source type.
  const operatorUrl = lookupEnvVar(`${prefix}_TOKEN_URL`);
  const origin: AuthServerOrigin = operatorUrl ? "operator" : "catalog";
  const template = operatorUrl ?? ctx.tokenUrl;
  if (!template) return err(missing(`service principal ${name} has no token URL: the ${ctx.sourceType} catalog entry has none, so an operator must set ${prefix}_TOKEN_URL`));
  const filled = fillAuthServerUrl({ label: "token URL", template, sourceType: ctx.sourceType, config: ctx.config, hint: `set ${prefix}_TOKEN_URL` });
  if (!filled.ok) return err(missing(`service principal ${name}: ${filled.error}`));
  const tokenUrl = filled.value;
  const insecure = tokenUrl.protocol === "http:";

  const scopes = [...new Set(ctx.scopes ?? [])].sort();
  // One cache row per (client, token endpoint, scopes): the same principal asked for other
  // scopes or at another endpoint must not get this token.
  const fingerprint = createHash("sha256").update(JSON.stringify([clientId, tokenUrl.href, scopes])).digest("hex").slice(0, 16);
  const cacheLocator = `sp:${name}@${fingerprint}`;
  if (deps.key) {
    const cached = await loadCredential(deps.db, deps.key, ctx.tenantId, cacheLocator, deps.now());
    // An undecryptable cache row (key rotated) is simply replaced below.
    if (cached.ok && cached.value?.bundle.access_token) return ok(pick(cached.value.bundle));
  }

  const as: oauth.AuthorizationServer = { issuer: tokenUrl.origin, token_endpoint: tokenUrl.href };
  const client: oauth.Client = { client_id: clientId };
  const auth = ctx.config.token_auth_method === "client_secret_post" ? oauth.ClientSecretPost(clientSecret) : oauth.ClientSecretBasic(clientSecret);
  const params = new URLSearchParams();
  if (scopes.length) params.set("scope", scopes.join(" "));
  let token: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.clientCredentialsGrantRequest(as, client, auth, params, {
      signal: AbortSignal.timeout(deps.timeoutMs),
      [oauth.customFetch]: pinnedTokenFetch({ origin }),
      [oauth.allowInsecureRequests]: insecure,
    });
    token = await oauth.processClientCredentialsResponse(as, client, response);
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
  const error = e as Error & { cause?: { code?: string; message?: string } };
  if (error?.name === "TimeoutError" || error?.name === "AbortError") return `token endpoint did not answer within ${timeoutMs / 1000} s`;
  if (error?.name === "EgressRefusedError") return error.message;
  if (error instanceof TypeError && error.cause) return `token endpoint is unreachable (${error.cause.code ?? error.cause.message ?? "network error"})`;
  return `token endpoint answered unexpectedly for service principal ${name} (${error?.message ?? String(e)})`;
}
