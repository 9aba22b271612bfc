/**
 * Browser admin consent for `consent:<provider>` credentials (DESIGN.md "Credentials"): OAuth 2.0
 * authorization code + PKCE (S256) with oauth4webapi.
 *
 *  startConsent    → the provider's authorization URL; the state (hashed) and the PKCE verifier
 *                    (encrypted) are kept server-side for 10 minutes, bound to tenant, connection,
 *                    admin and the connections the consent screen listed (describeConsent.covers).
 *  completeConsent → checks the state (unknown or changed: refused; another tenant's: refused;
 *                    expired; already used), handles a denial, exchanges the code, stores the
 *                    tokens encrypted under (tenant, `consent:<provider>`), writes the connection's
 *                    history (stage "consent") and resumes exactly the listed connections. Only the
 *                    admin who started it can finish it; anyone else is refused and nothing resumes.
 *
 * Authorization and token URLs come only from the catalog and the operator's OAUTH_<P>_* settings
 * (token-endpoint.ts); every token request (code exchange, refresh) is pinned to the address the
 * egress guard vetted. The token URL consent was given at is kept with the tokens: a connection
 * whose configuration points elsewhere never gets them, and a refresh never goes anywhere else.
 * Started, completed, denied and refused consents are recorded in the audit log.
 *
 * Framework-free: the route handler and the tests call these with their own deps. Expected
 * failures are values with a message in words; codes, tokens, the verifier and the client secret
 * never appear in a message, a log line or a page.
 */
import { createHash } from "node:crypto";
import * as oauth from "oauth4webapi";
import { recordAudit } from "../audit/audit-repository";
import { getCatalogEntry } from "../connectors/catalog";
import { effectiveConfig } from "../connectors/catalog/interpolate";
import { isReadOnlyScope } from "../connectors/catalog/schema";
import type { Db } from "../db/client";
import { EnvError, oauthProviderEnv, oauthProviderEnvName, type OAuthProviderEnv } from "../env";
import { err, ok, type Result } from "../lib/result";
import { countAwaitingConsent, getConnection, listAwaitingConsent, markForRetry, noteAwaitingCredentials } from "../onboarding/connection-repository";
import { createConsentRequest, consumeConsentRequest, findConsentRequestByStateHash } from "./consent-request-repository";
import { withLockedCredential } from "./credential-repository";
import { CONSENT_KIND, loadCredential, storeCredential } from "./credential-store";
import { aadFor, decrypt, encrypt, type EncryptionKey } from "./crypto";
import { parseLocator } from "./locator";
import { redact } from "./redact";
import { connectionInstanceHost, findOAuthApp, instanceHostTemplate, type ResolvedOAuthApp } from "./oauth-app-repository";
import { atlassianCloudIds, clientAuth, jsonBodyFetch, normalizingFetch, recognizedTokenTypes, type AtlassianPostConsent, type TokenAuthMethod, type TokenRequestBody, type TokenResponseShape } from "./oauth-quirks";
import { fillAuthServerUrl, pinnedTokenFetch, type AuthServerOrigin } from "./token-endpoint";
import type { SecretBundle } from "./types";

export const CONSENT_TTL_MS = 10 * 60 * 1000;
export const CONSENT_STAGE = "consent";
export const CALLBACK_PATH = "/api/oauth/callback";

/** Everything needed to send an admin to one provider and redeem the code. */
export type ConsentProvider = {
  provider: string;
  displayName: string;
  authorizeUrl: string;
  tokenUrl: string;
  /** RFC 9207: the `iss` an authorization response may carry must equal this */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** read-only scopes from the catalog */
  scopes: string[];
  scopeSeparator: string;
  authorizeParams: Record<string, string>;
  /** RFC 8707 resource indicator, sent on both requests when set */
  resource?: string;
  /** where tokenUrl came from: an operator's OAUTH_<P>_TOKEN_URL may be on a private network; the catalog's never (default catalog) */
  tokenOrigin?: AuthServerOrigin;
  /** the vendor's quirks from the catalog entry (schema.ts oauth2 mode) */
  /** client authentication at the token endpoint; default client_secret_post */
  tokenAuth?: TokenAuthMethod;
  /** how the token request's parameters are encoded; default the RFC 6749 form body (Zendesk: json) */
  tokenRequestBody?: TokenRequestBody;
  /** send an S256 code_challenge and the verifier; default true */
  pkce?: boolean;
  /** where the tokens sit in a non-standard token response (Slack) */
  tokenResponse?: TokenResponseShape;
  /** a lookup made with the new token (Atlassian accessible-resources → cloudId per site) */
  postConsent?: AtlassianPostConsent;
  /** the kid of the client's key (private_key_jwt) */
  assertionKeyId?: string;
  /** the tenant's OAuth app (Settings page) that supplied the client, when not the install's env */
  appId?: string;
};

/** `consent:<provider>` → its OAuth client for one connection of one tenant (sync or async). */
export type ProviderLookup = (provider: string, connectionConfig: Record<string, unknown>, tenantId?: string) => Result<ConsentProvider, string> | Promise<Result<ConsentProvider, string>>;

export type ConsentFlowDeps = {
  db: Db;
  /** seals the PKCE verifier and the tokens; undefined → consent is unavailable */
  encryptionKey: EncryptionKey | undefined;
  /** resumes onboarding for these connections (the job queue) */
  enqueue: (ids: readonly string[]) => Promise<void>;
  /** `consent:<provider>` → its OAuth client; default: catalog + OAUTH_<PROVIDER>_* env */
  providers?: ProviderLookup;
  now?: () => Date;
  /** per token request; default 10 s */
  timeoutMs?: number;
  log?: { warn: (obj: object, msg: string) => void; info?: (obj: object, msg: string) => void };
};

export type ConsentErrorCode =
  | "not_found"
  | "not_consent"
  | "not_awaiting"
  | "read_only_namespace"
  | "unavailable"
  | "tampered"
  | "other_tenant"
  | "other_user"
  | "expired"
  | "replayed"
  | "denied"
  | "provider_error"
  | "exchange_failed"
  | "changed";

export type ConsentError = { code: ConsentErrorCode; message: string; connectionId?: string };

// ------------------------------------------------------------------ provider configuration

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

function isLoopback(u: URL): boolean {
  return LOOPBACK.has(u.hostname);
}

/**
 * The OAuth client for `consent:<provider>`: `<provider>` is a catalog source type. Authorization
 * and token URLs and the read-only scopes come from its oauth2 authorization-code auth mode
 * (`{{config.x}}` only where a config value cannot choose the host, token-endpoint.ts); the
 * client id and secret, and optional URL overrides, from OAUTH_<PROVIDER>_* (server/env.ts).
 * Where the catalog's host would come from config, the operator must set the URLs.
 */
export function consentProviderFor(provider: string, connectionConfig: Record<string, unknown>, envSource?: Record<string, string | undefined>, app?: ResolvedOAuthApp): Result<ConsentProvider, string> {
  const entry = getCatalogEntry(provider);
  if (!entry) return err(`"${provider}" is not a connector in the catalog, so there is no OAuth sign-in for consent:${provider}`);
  const mode = entry.authModes.find((m) => m.type === "oauth2" && m.grant === "authorization_code");
  if (!mode || mode.type !== "oauth2") return err(`${entry.displayName} has no browser consent (OAuth authorization code) in the catalog`);
  const unsafe = mode.scopes.filter((s) => !isReadOnlyScope(s));
  if (unsafe.length) return err(`${entry.displayName}'s catalog scopes are not all read-only (${unsafe.join(", ")}); Safe Mode will not request them`);
  let env: OAuthProviderEnv;
  try {
    // a tenant's own OAuth app replaces the install's client and URL overrides entirely
    env = app
      ? { clientId: app.clientId, clientSecret: app.secret, authorizeUrl: app.authorizeUrl, tokenUrl: app.tokenUrl }
      : oauthProviderEnv(provider, envSource);
  } catch (e) {
    return err(e instanceof EnvError ? e.message : "Invalid OAuth configuration");
  }
  const prefix = app ? "the organisation's OAuth app" : oauthProviderEnvName(provider);
  const config = effectiveConfig(entry, connectionConfig);
  // the connection's instance, for a vendor that registers a client per instance
  const hostTemplate = instanceHostTemplate(mode);
  const host = connectionInstanceHost(hostTemplate, config);
  if (!app && mode.clientPerInstance && !(env.clientId && env.clientSecret)) {
    return err(`No OAuth app is registered for ${entry.displayName}${host ? ` at ${host}` : ""}: ${entry.displayName} registers a client per instance, so an admin adds it under Settings → OAuth apps (or an operator sets ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET)`);
  }
  if (!env.clientId || !env.clientSecret) {
    return err(`No OAuth client is configured for ${entry.displayName}: the server needs ${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET`);
  }
  if (mode.endpoints === "oauth_app" && !((env.authorizeUrl ?? mode.authorizeUrl) && (env.tokenUrl ?? mode.tokenUrl))) {
    return err(`${entry.displayName} shows each customer its own authorization and token endpoints, so they are not in the catalog: ${app ? "the organisation's OAuth app must name both (Settings → OAuth apps)" : `an admin adds them with the OAuth app under Settings → OAuth apps (or an operator sets ${prefix}_AUTHORIZE_URL and ${prefix}_TOKEN_URL)`}`);
  }
  const authorizeTemplate = env.authorizeUrl ?? mode.authorizeUrl;
  if (!authorizeTemplate) return err(`${entry.displayName} has no authorization URL in the catalog; set ${prefix}_AUTHORIZE_URL`);
  const tokenTemplate = env.tokenUrl ?? mode.tokenUrl;
  if (!tokenTemplate) return err(`${entry.displayName} has no token URL in the catalog; set ${prefix}_TOKEN_URL`);
  const authorizeUrl = fillAuthServerUrl({ label: "authorization URL", template: authorizeTemplate, sourceType: provider, config, hint: `set ${prefix}_AUTHORIZE_URL and ${prefix}_TOKEN_URL` });
  if (!authorizeUrl.ok) return authorizeUrl;
  const tokenUrl = fillAuthServerUrl({ label: "token URL", template: tokenTemplate, sourceType: provider, config, hint: `set ${prefix}_TOKEN_URL` });
  if (!tokenUrl.ok) return tokenUrl;
  if (!app && mode.clientPerInstance) {
    // the install's client of a per-instance vendor is registered at one instance: its secret goes
    // to that instance's token endpoint only, never to the one another connection's config names
    // unset: the instance the catalog's defaults name, where there is one (gitlab.com, Datadog's US1 site)
    const instance = env.instance ?? connectionInstanceHost(hostTemplate, effectiveConfig(entry, {}));
    if (!instance) {
      return err(`${prefix}_CLIENT_ID is an OAuth client of one ${entry.displayName} instance, and ${prefix}_INSTANCE does not say which: an operator sets it to that instance's host${host ? `, or an admin adds the OAuth app for ${host} under Settings → OAuth apps` : ""}`);
    }
    if (host !== instance) {
      return err(`No OAuth app is registered for ${entry.displayName}${host ? ` at ${host}` : ""}: the install's client (${prefix}_CLIENT_ID) belongs to ${instance}, so an admin adds this instance's OAuth app under Settings → OAuth apps`);
    }
  }
  return ok({
    provider,
    displayName: entry.displayName,
    authorizeUrl: authorizeUrl.value.toString(),
    tokenUrl: tokenUrl.value.toString(),
    // the id_token `iss` the vendor documents (PagerDuty) or the authorization server's origin
    issuer: env.issuer ?? mode.idToken?.issuer ?? authorizeUrl.value.origin,
    clientId: env.clientId,
    clientSecret: env.clientSecret,
    scopes: [...mode.scopes],
    scopeSeparator: mode.scopeSeparator,
    authorizeParams: { ...(mode.authorizeParams ?? {}) },
    resource: env.resource,
    // an admin's per-instance URL override is not an operator's: public addresses only
    tokenOrigin: env.tokenUrl && !app ? "operator" : "catalog",
    tokenAuth: mode.tokenAuth,
    ...(mode.tokenRequestBody === "json" ? { tokenRequestBody: "json" as const } : {}),
    pkce: mode.pkce,
    ...(mode.tokenResponse ? { tokenResponse: mode.tokenResponse } : {}),
    ...(mode.postConsent ? { postConsent: mode.postConsent } : {}),
    ...(app?.assertionKeyId ? { assertionKeyId: app.assertionKeyId } : {}),
    ...(app ? { appId: app.id } : {}),
  });
}

/**
 * The default lookup: the tenant's OAuth app for this provider (and instance host) from the
 * Settings page, else the install's OAUTH_<PROVIDER>_* settings.
 */
export function tenantConsentProviders(db: Db, key: EncryptionKey | undefined, envSource?: Record<string, string | undefined>): ProviderLookup {
  return async (provider, connectionConfig, tenantId) => {
    const entry = getCatalogEntry(provider);
    const mode = entry?.authModes.find((m) => m.type === "oauth2" && m.grant === "authorization_code");
    if (!entry || !mode || mode.type !== "oauth2" || !tenantId) return consentProviderFor(provider, connectionConfig, envSource);
    const host = connectionInstanceHost(instanceHostTemplate(mode), effectiveConfig(entry, connectionConfig));
    const app = await findOAuthApp(db, key, tenantId, provider, { instanceHost: host });
    if (!app.ok) return err(app.error);
    return consentProviderFor(provider, connectionConfig, envSource, app.value ?? undefined);
  };
}

/** What the consent page shows before the admin leaves: no secrets, only names and scopes. */
export type ConsentSummary = {
  connectionId: string;
  provider: string;
  displayName: string;
  sourceType: string;
  /** the source type's name in the catalog (GitHub, Google Drive) */
  sourceName: string;
  namespace: string;
  resourceIds: string[];
  scopes: string[];
  authorizationHost: string | null;
  /** why consent cannot start now, in words (null: it can) */
  blocked: string | null;
  /** every connection this consent would resume, listed on the consent screen (this one first) */
  covers: ConsentCovered[];
  /** connections waiting on the same consent past one screen's MAX_CONSENT_COVERS: a later consent resumes them */
  waitingBeyond: number;
};

export type ConsentCovered = { id: string; namespace: string; sourceType: string; resourceIds: string[] };

/** How many connections one consent screen lists (and so one consent can resume) at most. */
export const MAX_CONSENT_COVERS = 200;

/**
 * The tenant's connections waiting on `consent:<provider>`, `first` first: what one consent can
 * resume — the newest MAX_CONSENT_COVERS of them, `first` among them while it waits however many
 * others wait too. With `only`: which of those ids (and `first`) still wait on it.
 */
async function waitingOn(db: Db, tenantId: string, provider: string, first: string, only?: readonly string[]): Promise<ConsentCovered[]> {
  const locator = `consent:${provider}`;
  let rows;
  if (only) {
    const ids = [...new Set([first, ...only])].slice(0, MAX_CONSENT_COVERS + 1);
    rows = await listAwaitingConsent(db, tenantId, { locator, ids, limit: ids.length });
  } else {
    rows = await listAwaitingConsent(db, tenantId, { locator, limit: MAX_CONSENT_COVERS });
    // older than the newest listed, it is still this consent's own connection: it leads the list
    if (!rows.some((c) => c.id === first)) rows = [...(await listAwaitingConsent(db, tenantId, { locator, ids: [first], limit: 1 })), ...rows].slice(0, MAX_CONSENT_COVERS);
  }
  rows.sort((a, b) => (a.id === first ? -1 : b.id === first ? 1 : 0));
  return rows.map((c) => ({ id: c.id, namespace: c.namespace, sourceType: c.sourceType, resourceIds: c.resourceIds }));
}

export async function describeConsent(deps: Pick<ConsentFlowDeps, "db" | "providers" | "encryptionKey">, tenantId: string, connectionId: string): Promise<ConsentSummary | null> {
  const conn = await getConnection(deps.db, tenantId, connectionId);
  if (!conn) return null;
  const loc = parseLocator(conn.credentialLocator);
  const provider = loc.ok && loc.value.scheme === "consent" ? loc.value.provider : null;
  const entry = getCatalogEntry(provider ?? conn.sourceType);
  const mode = entry?.authModes.find((m) => m.type === "oauth2" && m.grant === "authorization_code");
  const resolved = provider ? await (deps.providers ?? tenantConsentProviders(deps.db, deps.encryptionKey))(provider, conn.config, tenantId) : null;
  const blocked = checkStartable(conn, provider, deps.encryptionKey) ?? (resolved && !resolved.ok ? resolved.error : null);
  const covers = provider && !blocked ? await waitingOn(deps.db, tenantId, provider, conn.id) : [];
  const waitingBeyond = provider && covers.length >= MAX_CONSENT_COVERS ? Math.max(0, (await countAwaitingConsent(deps.db, tenantId, `consent:${provider}`)) - covers.length) : 0;
  return {
    connectionId: conn.id,
    provider: provider ?? conn.sourceType,
    displayName: resolved?.ok ? resolved.value.displayName : (entry?.displayName ?? provider ?? conn.sourceType),
    sourceType: conn.sourceType,
    sourceName: getCatalogEntry(conn.sourceType)?.displayName ?? conn.sourceType,
    namespace: conn.namespace,
    resourceIds: conn.resourceIds,
    scopes: resolved?.ok ? resolved.value.scopes : mode && mode.type === "oauth2" ? [...mode.scopes] : [],
    authorizationHost: resolved?.ok ? new URL(resolved.value.authorizeUrl).host : null,
    blocked,
    covers,
    waitingBeyond,
  };
}

function checkStartable(conn: { namespace: string; status: string; sourceType: string }, provider: string | null, key: EncryptionKey | undefined): string | null {
  if (!provider) return "This connection does not use browser consent (its credential is not a consent: locator).";
  if (provider !== conn.sourceType) return consentForOtherSource(provider, conn.sourceType);
  if (conn.namespace === "demo") return "The demo namespace is read-only: its connections cannot be changed.";
  if (conn.status !== "AWAITING_CREDENTIALS") return "This connection is not waiting for consent.";
  if (!key) return "The server has no encryption key (ENCRYPTION_KEY), so it cannot keep tokens.";
  return null;
}

/** consent:<provider> tokens are the provider's: they are sent only to that connector's hosts. */
export function consentForOtherSource(provider: string, sourceType: string): string {
  return `consent:${provider} tokens can only be used by ${provider} connections, not by this ${sourceType} connection: use consent:${sourceType}.`;
}

// ------------------------------------------------------------------ start

const hashState = (state: string) => createHash("sha256").update("aam-consent-state:").update(state).digest("hex");
const verifierAad = (tenantId: string, stateHash: string) => aadFor(tenantId, `consent_request:${stateHash}`);

export type StartConsentInput = {
  tenantId: string;
  connectionId: string;
  userId: string;
  /** how the admin is named in the connection's history (their email) */
  userLabel?: string;
  /** `<origin>/api/oauth/callback` of this app */
  redirectUri: string;
  /**
   * The connections the consent screen listed (describeConsent.covers) that the admin approved;
   * only those still waiting on the same consent in this tenant are kept. Default: this one only.
   */
  connectionIds?: readonly string[];
};

export async function startConsent(deps: ConsentFlowDeps, input: StartConsentInput): Promise<Result<{ url: string; provider: string }, ConsentError>> {
  const conn = await getConnection(deps.db, input.tenantId, input.connectionId);
  if (!conn) return err({ code: "not_found", message: "No connection with this id in your organisation." });
  const loc = parseLocator(conn.credentialLocator);
  const provider = loc.ok && loc.value.scheme === "consent" ? loc.value.provider : null;
  const blocked = checkStartable(conn, provider, deps.encryptionKey);
  if (blocked || !provider || !deps.encryptionKey) {
    const code: ConsentErrorCode = !provider || provider !== conn.sourceType ? "not_consent" : conn.namespace === "demo" ? "read_only_namespace" : conn.status !== "AWAITING_CREDENTIALS" ? "not_awaiting" : "unavailable";
    return err({ code, message: blocked ?? "Consent is not available.", connectionId: conn.id });
  }
  const p = await (deps.providers ?? tenantConsentProviders(deps.db, deps.encryptionKey))(provider, conn.config, input.tenantId);
  if (!p.ok) return err({ code: "unavailable", message: p.error, connectionId: conn.id });

  const state = oauth.generateRandomState();
  const verifier = oauth.generateRandomCodeVerifier();
  const stateHash = hashState(state);
  const now = (deps.now ?? (() => new Date()))();
  const waiting = new Set((await waitingOn(deps.db, input.tenantId, provider, conn.id, input.connectionIds ?? [])).map((c) => c.id));
  const listed = [conn.id, ...(input.connectionIds ?? []).filter((id) => id !== conn.id && waiting.has(id))];
  const connectionIds = [...new Set(listed)];
  await createConsentRequest(deps.db, {
    tenantId: input.tenantId,
    connectionId: conn.id,
    userId: input.userId,
    userLabel: (input.userLabel ?? "an admin").slice(0, 320),
    provider,
    stateHash,
    redirectUri: input.redirectUri,
    verifier: encrypt(deps.encryptionKey, verifier, verifierAad(input.tenantId, stateHash)),
    expiresAt: new Date(now.getTime() + CONSENT_TTL_MS),
    connectionIds,
    providerFingerprint: providerFingerprint(p.value),
  });
  await recordAudit(deps.db, input.tenantId, { id: input.userId, label: input.userLabel ?? "an admin" }, "consent.started", `connection:${conn.id}`, { provider, connections: connectionIds });

  const url = new URL(p.value.authorizeUrl);
  for (const [k, v] of Object.entries(p.value.authorizeParams)) url.searchParams.set(k, v);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", p.value.clientId);
  url.searchParams.set("redirect_uri", input.redirectUri);
  // a vendor whose scopes are set on the registered client (Workday) is asked for none here
  if (p.value.scopes.length) url.searchParams.set("scope", p.value.scopes.join(p.value.scopeSeparator));
  url.searchParams.set("state", state);
  if (p.value.pkce !== false) {
    url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set("code_challenge_method", "S256");
  }
  if (p.value.resource) url.searchParams.set("resource", p.value.resource);
  return ok({ url: url.toString(), provider });
}

// ------------------------------------------------------------------ complete

export type CompleteConsentInput = {
  /** the signed-in admin's tenant: a state issued to another tenant is refused */
  tenantId: string;
  /** the signed-in admin: only the admin who started the consent can finish it */
  userId: string;
  /** how the signed-in user is named in the audit log */
  userLabel?: string;
  /** the full callback URL the browser was sent to (its query carries code/state or error) */
  callbackUrl: string | URL;
};

export type ConsentSuccess = { connectionId: string; provider: string; displayName: string; scopes: string[]; resumed: string[] };

/** Where a consent's code and client secret go: the authorization server, token endpoint, client and resource it was started with. */
function providerFingerprint(p: ConsentProvider): string {
  return createHash("sha256").update(JSON.stringify([p.authorizeUrl, p.tokenUrl, p.issuer, p.clientId, p.resource ?? ""])).digest("hex");
}

const TAMPERED = "This consent link is not valid: it was changed or was never issued here. Start again from the connection's consent page.";

export async function completeConsent(deps: ConsentFlowDeps, input: CompleteConsentInput): Promise<Result<ConsentSuccess, ConsentError>> {
  const now = (deps.now ?? (() => new Date()))();
  const callback = new URL(input.callbackUrl);
  const params = callback.searchParams;
  const state = params.get("state");
  if (!state || state.length > 512) return err({ code: "tampered", message: TAMPERED });
  const stateHash = hashState(state);
  const req = await findConsentRequestByStateHash(deps.db, stateHash);
  if (!req) return err({ code: "tampered", message: TAMPERED });
  // another organisation's link: refuse without using it up and without naming its connection
  if (req.tenantId !== input.tenantId) return err({ code: "other_tenant", message: "This consent link was not issued for your organisation. Sign in with an admin account of the organisation that started it." });
  const connectionId = req.connectionId;
  // bound to the admin who started it: anyone else (even an admin of this tenant) is refused, nothing is used up or resumed
  if (req.userId !== input.userId) {
    await recordAudit(deps.db, req.tenantId, { id: input.userId, label: input.userLabel ?? "a user" }, "consent.refused", `connection:${connectionId}`, { provider: req.provider, reason: "finished by another user than the admin who started it" });
    return err({ code: "other_user", message: `This consent was started by ${req.userLabel}; only they can finish it. Nothing was granted. Start your own from the connection's consent page.`, connectionId });
  }
  if (req.usedAt) return err({ code: "replayed", message: "This consent link was already used. If consent is still needed, start again from the connection's consent page.", connectionId });
  if (req.expiresAt.getTime() <= now.getTime()) {
    return err({ code: "expired", message: "This consent link expired (links last 10 minutes). Start again from the connection's consent page.", connectionId });
  }
  if (!(await consumeConsentRequest(deps.db, req.id, now))) {
    return err({ code: "replayed", message: "This consent link was already used. If consent is still needed, start again from the connection's consent page.", connectionId });
  }

  const conn = await getConnection(deps.db, req.tenantId, connectionId);
  const providerResult = await (deps.providers ?? tenantConsentProviders(deps.db, deps.encryptionKey))(req.provider, conn?.config ?? {}, req.tenantId);
  const name = providerResult.ok ? providerResult.value.displayName : req.provider;
  const note = (message: string) => noteAwaitingCredentials(deps.db, req.tenantId, connectionId, { stage: CONSENT_STAGE, message });
  const actor = { id: req.userId, label: req.userLabel };
  const target = `connection:${connectionId}`;

  const error = params.get("error");
  if (error) {
    if (error === "access_denied") {
      const message = `Consent was denied by ${req.userLabel}`;
      await note(message);
      await recordAudit(deps.db, req.tenantId, actor, "consent.denied", target, { provider: req.provider });
      return err({ code: "denied", message: `${message}. Nothing was requested from ${name}; the connection keeps waiting for an admin's consent.`, connectionId });
    }
    const description = redact((params.get("error_description") ?? "").slice(0, 200));
    const message = `${name} refused the consent request (${redact(error.slice(0, 64))}${description ? `: ${description}` : ""})`;
    await note(message);
    await recordAudit(deps.db, req.tenantId, actor, "consent.denied", target, { provider: req.provider, error: redact(error.slice(0, 64)) });
    return err({ code: "provider_error", message: `${message}. Start again, or ask the provider's administrator.`, connectionId });
  }
  if (!providerResult.ok || !deps.encryptionKey) {
    const message = providerResult.ok ? "The server has no encryption key (ENCRYPTION_KEY), so it cannot keep tokens." : providerResult.error;
    await note(message);
    return err({ code: "unavailable", message, connectionId });
  }
  const p = providerResult.value;
  // the connection's config (re-posted by an API key meanwhile) may now name another instance:
  // the code, the verifier and the client secret go only where the admin's consent started
  if (req.providerFingerprint && req.providerFingerprint !== providerFingerprint(p)) {
    const message = `The connection's configuration changed after this consent started (it now names another ${name} sign-in or token endpoint), so nothing was sent; start again from the connection's consent page`;
    await note(message);
    await recordAudit(deps.db, req.tenantId, actor, "consent.refused", target, { provider: req.provider, reason: "the connection's config changed during the consent" });
    return err({ code: "changed", message: `${message}.`, connectionId });
  }
  const verifier = decrypt(deps.encryptionKey, req.verifier, verifierAad(req.tenantId, stateHash));
  if (!verifier.ok) return err({ code: "tampered", message: TAMPERED, connectionId });

  const code = params.get("code") ?? "";
  const secrets = [code, verifier.value, p.clientSecret, state];
  let tokens: oauth.TokenEndpointResponse;
  try {
    tokens = await exchangeCode(deps, p, callback, state, verifier.value, req.redirectUri);
  } catch (e) {
    const why = describeOAuthError(e, secrets);
    deps.log?.warn({ connectionId, provider: p.provider, reason: why }, "consent token exchange failed");
    const message = `${p.displayName} did not issue tokens: ${why}`;
    await note(message);
    await recordAudit(deps.db, req.tenantId, actor, "consent.failed", target, { provider: req.provider, reason: why });
    return err({ code: "exchange_failed", message: `${message}. Start again from the connection's consent page.`, connectionId });
  }

  const bundle: SecretBundle = { access_token: tokens.access_token, token_type: tokens.token_type };
  if (tokens.refresh_token) bundle.refresh_token = tokens.refresh_token;
  if (tokens.scope) bundle.scope = tokens.scope;
  const instanceUrl = (tokens as Record<string, unknown>).instance_url;
  if (typeof instanceUrl === "string") bundle.instance_url = instanceUrl;
  // With a refresh token the record outlives the access token: the resolver renews it when it
  // expires (bundle.expires_at). Without one, the record expires with the token and the
  // resolver asks for consent again.
  const tokenExpiry = typeof tokens.expires_in === "number" && tokens.expires_in > 0 ? new Date(now.getTime() + tokens.expires_in * 1000) : null;
  if (tokenExpiry) bundle.expires_at = tokenExpiry.toISOString();
  // the endpoint consent was given at: tokens are only used and renewed for connections that resolve to it
  bundle.token_url = p.tokenUrl;
  if (p.postConsent?.type === "atlassian_accessible_resources") {
    // Atlassian 3LO tokens work only at api.atlassian.com/ex/<product>/<cloudId>: keep each granted site's cloudId
    const sites = await atlassianCloudIds(pinnedTokenFetch({ origin: "catalog" }), p.postConsent.url, tokens.access_token, AbortSignal.timeout(deps.timeoutMs ?? 10_000));
    if (!sites.ok) {
      const message = `${p.displayName} issued tokens, but ${sites.error}`;
      await note(message);
      await recordAudit(deps.db, req.tenantId, actor, "consent.failed", target, { provider: req.provider, reason: sites.error });
      return err({ code: "exchange_failed", message: `${message}. Start again from the connection's consent page.`, connectionId });
    }
    bundle.cloud_ids = JSON.stringify(sites.value);
  }
  const expiresAt = bundle.refresh_token ? null : tokenExpiry;
  const locator = `consent:${req.provider}`;
  await storeCredential(deps.db, deps.encryptionKey, { tenantId: req.tenantId, locator, kind: CONSENT_KIND, bundle, expiresAt });

  // Exactly the connections the consent screen listed, and only those still waiting on this consent.
  const granted = tokens.scope ? tokens.scope.split(/[\s,]+/).filter(Boolean) : p.scopes;
  const words = `Admin consent for ${p.displayName} given by ${req.userLabel} (read-only scopes: ${granted.join(", ") || "none"}); onboarding resumes`;
  const listed = req.connectionIds.length ? req.connectionIds : [connectionId];
  const stillWaiting = new Set((await waitingOn(deps.db, req.tenantId, req.provider, connectionId, listed)).map((c) => c.id));
  const resumed: string[] = [];
  for (const id of new Set([connectionId, ...listed].filter((x) => stillWaiting.has(x)))) {
    const message = id === connectionId ? words : `${words} (consent given on another connection)`;
    if (await markForRetry(deps.db, req.tenantId, id, { stage: CONSENT_STAGE, message })) resumed.push(id);
  }
  if (resumed.length) await deps.enqueue(resumed);
  await recordAudit(deps.db, req.tenantId, actor, "consent.completed", target, { provider: req.provider, scopes: granted, connections: resumed });
  deps.log?.info?.({ connectionId, provider: p.provider, resumed: resumed.length }, "admin consent completed");
  return ok({ connectionId, provider: p.provider, displayName: p.displayName, scopes: granted, resumed });
}

/** The token request options and client authentication one provider's quirks call for. */
function tokenRequest(p: ConsentProvider, timeoutMs: number): { options: oauth.TokenEndpointRequestOptions; auth: oauth.ClientAuth; process: oauth.ProcessTokenResponseOptions } {
  const tokenUrl = new URL(p.tokenUrl);
  const options: oauth.TokenEndpointRequestOptions = {
    [oauth.allowInsecureRequests]: tokenUrl.protocol === "http:" && isLoopback(tokenUrl),
    signal: AbortSignal.timeout(timeoutMs),
    [oauth.customFetch]: normalizingFetch(jsonBodyFetch(pinnedTokenFetch({ origin: p.tokenOrigin ?? "catalog" }), p.tokenRequestBody), p.tokenResponse),
    ...(p.resource ? { additionalParameters: { resource: p.resource } } : {}),
  };
  const auth = clientAuth(p.tokenAuth ?? "client_secret_post", p.clientSecret, { clientId: p.clientId, tokenUrl: p.tokenUrl, keyId: p.assertionKeyId });
  const types = recognizedTokenTypes(p.tokenResponse);
  return { options, auth, process: types ? { recognizedTokenTypes: types } : {} };
}

async function exchangeCode(deps: ConsentFlowDeps, p: ConsentProvider, callback: URL, state: string, verifier: string, redirectUri: string): Promise<oauth.TokenEndpointResponse> {
  const as: oauth.AuthorizationServer = { issuer: p.issuer, authorization_endpoint: p.authorizeUrl, token_endpoint: p.tokenUrl };
  const client: oauth.Client = { client_id: p.clientId };
  const { options, auth, process } = tokenRequest(p, deps.timeoutMs ?? 10_000);
  // validates state again and, when the server sends one, the RFC 9207 `iss` (mix-up defence)
  const params = oauth.validateAuthResponse(as, client, callback.searchParams, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, p.pkce === false ? oauth.nopkce : verifier, options);
  return oauth.processAuthorizationCodeResponse(as, client, response, process);
}

/**
 * Renews consent tokens with the kept refresh token (RFC 6749 §6) and stores the new ones in
 * place. A provider that rotates refresh tokens gets its new one kept; otherwise the old stays.
 *
 * Single flight per grant across all processes: the refresh runs while holding the row lock of
 * the stored tokens (withLockedCredential), reads them again under the lock and, when another
 * caller has renewed them meanwhile, returns those without asking the server. Otherwise it sends
 * the refresh token read under the lock (never an older copy) and writes the new access token
 * and the rotated refresh token in the same transaction before the lock is released, so no
 * refresh token is sent twice, which servers with reuse detection answer by revoking the grant.
 * `input.bundle` is what the caller read before locking.
 */
export async function refreshConsentTokens(
  deps: { db: Db; encryptionKey: EncryptionKey; now?: () => Date; timeoutMs?: number; providers?: ProviderLookup },
  input: { tenantId: string; provider: string; config: Record<string, unknown>; bundle: SecretBundle },
): Promise<Result<SecretBundle, string>> {
  const found = await (deps.providers ?? tenantConsentProviders(deps.db, deps.encryptionKey))(input.provider, input.config, input.tenantId);
  if (!found.ok) return err(found.error);
  const p = found.value;
  const clock = deps.now ?? (() => new Date());
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const locator = `consent:${input.provider}`;
  // waiters queue behind at most a few refreshes, each bounded by timeoutMs
  return withLockedCredential(deps.db, input.tenantId, locator, { lockWaitMs: 3 * timeoutMs + 5_000, workMs: timeoutMs + 5_000 }, async (tx) => {
    const stored = await loadCredential(tx, deps.encryptionKey, input.tenantId, locator, clock());
    if (!stored.ok) return err(`the stored consent could not be read: ${stored.error}`);
    if (!stored.value) return err("the stored consent was removed");
    const current = stored.value.bundle;
    if (renewedMeanwhile(input.bundle, current, clock().getTime())) return ok(current);
    const refresh = current.refresh_token;
    if (!refresh) return err("no refresh token was kept");
    // the refresh token and the client secret go only where consent was given
    if (current.token_url && current.token_url !== p.tokenUrl) return err(`consent was given at ${hostOf(current.token_url)}, not at ${hostOf(p.tokenUrl)}`);
    const as: oauth.AuthorizationServer = { issuer: p.issuer, token_endpoint: p.tokenUrl };
    const client: oauth.Client = { client_id: p.clientId };
    let tokens: oauth.TokenEndpointResponse;
    try {
      const { options, auth, process } = tokenRequest(p, timeoutMs);
      const response = await oauth.refreshTokenGrantRequest(as, client, auth, refresh, options);
      tokens = await oauth.processRefreshTokenResponse(as, client, response, process);
    } catch (e) {
      return err(describeOAuthError(e, [refresh, p.clientSecret]));
    }
    const now = clock();
    const bundle: SecretBundle = { ...current, access_token: tokens.access_token, token_type: tokens.token_type, token_url: p.tokenUrl };
    if (tokens.refresh_token) bundle.refresh_token = tokens.refresh_token;
    if (typeof tokens.expires_in === "number" && tokens.expires_in > 0) bundle.expires_at = new Date(now.getTime() + tokens.expires_in * 1000).toISOString();
    else delete bundle.expires_at;
    await storeCredential(tx, deps.encryptionKey, { tenantId: input.tenantId, locator, kind: CONSENT_KIND, bundle, expiresAt: null });
    return ok(bundle);
  });
}

/**
 * Whether the tokens read under the lock are a renewal (or a new consent) since the caller read
 * them: another access token that has not expired, or one that is not due for renewal.
 */
function renewedMeanwhile(seen: SecretBundle, current: SecretBundle, nowMs: number): boolean {
  const expiresAt = current.expires_at ? Date.parse(current.expires_at) : NaN;
  if (!(expiresAt <= nowMs + REFRESH_MARGIN_MS)) return true;
  return current.access_token !== seen.access_token && expiresAt > nowMs;
}

/** Consent tokens are renewed this long before they expire. */
export const REFRESH_MARGIN_MS = 60_000;

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "another address";
  }
}

/** Words for a failed exchange: the server's error code and description, or what went wrong locally, with secrets removed. */
function describeOAuthError(e: unknown, secrets: string[]): string {
  let text: string;
  if (e instanceof oauth.ResponseBodyError) text = `${e.error}${e.error_description ? `: ${e.error_description}` : ""}`;
  else if (e instanceof oauth.AuthorizationResponseError) text = `${e.error}${e.error_description ? `: ${e.error_description}` : ""}`;
  else if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) text = "the token endpoint did not answer in time";
  else if (e instanceof Error && (e.name === "EgressRefusedError" || e.name === "QuirkError")) text = e.message;
  else if (e instanceof TypeError) text = "the token endpoint could not be reached";
  else text = e instanceof Error ? e.message : String(e);
  return redact(text.slice(0, 300), secrets);
}

