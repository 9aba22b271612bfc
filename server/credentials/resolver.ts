/**
 * The credential resolver the onboarding pipeline calls: parses a locator and dispatches to
 * Vault, the environment, stored consent tokens or a service principal. Expected failures are
 * CredentialFailure values whose messages have been through redact(); an unexpected exception
 * (database down) is rethrown as a CredentialResolverError with a redacted message and no cause,
 * so nothing downstream can log a secret from it.
 */
import type { Db } from "../db/client";
import { getEnv, lookupEnvVar } from "../env";
import { err, ok, type Result } from "../lib/result";
import { getCatalogEntry } from "../connectors/catalog";
import { consentForOtherSource, REFRESH_MARGIN_MS, refreshConsentTokens, tenantConsentProviders, type ProviderLookup } from "./consent-flow";
import { loadCredential } from "./credential-store";
import { encryptionKeyFromEnv, type EncryptionKey } from "./crypto";
import { formatLocator, parseLocator } from "./locator";
import { findOAuthApp } from "./oauth-app-repository";
import { atlassianGateway } from "./oauth-quirks";
import { redact } from "./redact";
import { resolveServicePrincipal } from "./sp";
import { checkEnvName, createTenantScopes, envPolicyFromEnv, isInstallWideEnvLocator, vaultTenantFolder, type EnvPolicy, type TenantScope } from "./tenant-scope";
import type { CredentialFailure, CredentialResolver, Locator, ResolveContext, SecretBundle } from "./types";
import { createVaultClient, vaultConfigFromEnv, type VaultConfig } from "./vault";

export { storeCredential, type StoreCredentialInput } from "./credential-store";
export { parseEncryptionKey, encryptionKeyFromEnv, type EncryptionKey } from "./crypto";
export { parseLocator, formatLocator } from "./locator";

export type CredentialResolverDeps = {
  db: Db;
  /** for Vault requests only: token endpoints are always reached through the pinned transport (token-endpoint.ts) */
  fetch?: typeof fetch;
  now?: () => Date;
  /** defaults to ENCRYPTION_KEY from the environment */
  encryptionKey?: EncryptionKey;
  /** defaults to the VAULT_* environment variables, read on each call */
  vaultConfig?: () => VaultConfig;
  /** per outbound request (Vault, token endpoint); default 5 s */
  timeoutMs?: number;
  /** OAuth clients for renewing consent tokens; default: catalog + OAUTH_<PROVIDER>_* */
  consentProviders?: ProviderLookup;
  /** which env: names may be read; default SECRET_ENV_PREFIX and whether sandboxes run, read on each call */
  envPolicy?: () => EnvPolicy;
  /** VAULT_TENANT_PREFIX, read on each call */
  vaultTenantPrefix?: () => string;
};

export { CONSENT_KIND } from "./credential-store";

export class CredentialResolverError extends Error {
  override name = "CredentialResolverError";
}

export function consentPath(connectionId: string): string {
  return `/connections/${encodeURIComponent(connectionId)}/consent`;
}

type Outcome = Result<SecretBundle, CredentialFailure>;

export function createCredentialResolver(deps: CredentialResolverDeps): CredentialResolver {
  const doFetch = deps.fetch ?? fetch;
  const now = deps.now ?? (() => new Date());
  const timeoutMs = deps.timeoutMs ?? 5_000;
  const vault = createVaultClient({ fetch: doFetch, now, timeoutMs });
  const vaultConfig = deps.vaultConfig ?? vaultConfigFromEnv;
  const key = () => deps.encryptionKey ?? encryptionKeyFromEnv();
  const scopes = createTenantScopes(deps.db);
  const envPolicy = deps.envPolicy ?? envPolicyFromEnv;
  const vaultPrefix = deps.vaultTenantPrefix ?? (() => getEnv().VAULT_TENANT_PREFIX);
  // Renewals in flight in this resolver, per (tenant, locator, access token seen): callers that
  // find the same expiring tokens share one, so they wait on one database lock, not one each.
  // Across resolvers and processes, refreshConsentTokens' row lock makes it one per grant.
  const renewing = new Map<string, Promise<Result<SecretBundle, string>>>();

  async function dispatch(loc: Locator, ctx: ResolveContext, secrets: string[]): Promise<Outcome> {
    if (loc.scheme === "consent") return resolveConsent(loc, ctx);
    // every other scheme names something of the install: resolved within the caller's tenant
    const scope = await scopes(ctx.tenantId);
    if (!scope) return err({ kind: "missing", message: "this organisation no longer exists" });
    switch (loc.scheme) {
      case "vault": {
        const config = vaultConfig();
        secrets.push(...[config.token, config.secretId, config.roleId].filter((s): s is string => !!s));
        const folder = vaultTenantFolder(vaultPrefix(), scope);
        if (!folder.ok) return err({ kind: "missing", message: folder.error });
        return vault.read(config, loc.path, loc.key, folder.value);
      }
      case "env":
        return resolveEnv(loc.name, scope, envPolicy(), secrets);
      case "sp":
        return resolveServicePrincipal(
          { db: deps.db, now, key: key(), timeoutMs, secrets, scope, apps: (provider, principal, instanceHost) => findOAuthApp(deps.db, key(), ctx.tenantId, provider, { instanceHost, principal }) },
          loc.name,
          ctx,
        );
    }
  }

  async function resolveConsent(loc: Extract<Locator, { scheme: "consent" }>, ctx: ResolveContext): Promise<Outcome> {
    const page = consentPath(ctx.connectionId);
    // a provider's tokens go only to that connector's hosts: never lent to another source type
    if (getCatalogEntry(loc.provider) && loc.provider !== ctx.sourceType) return err({ kind: "missing", message: consentForOtherSource(loc.provider, ctx.sourceType) });
    const k = key();
    if (!k) return err({ kind: "unreadable", message: "stored consent tokens cannot be read: ENCRYPTION_KEY is not configured" });
    const stored = await loadCredential(deps.db, k, ctx.tenantId, formatLocator(loc), now());
    if (stored.ok && stored.value) {
      const bundle = stored.value.bundle;
      // Tokens are per (tenant, provider), but consent was given at one token endpoint: a
      // connection whose configuration resolves to another one (another Zendesk subdomain, say)
      // never gets them, and no refresh goes there.
      const lookup = deps.consentProviders ?? tenantConsentProviders(deps.db, k);
      if (bundle.token_url) {
        const p = await lookup(loc.provider, ctx.config, ctx.tenantId);
        if (!p.ok) return err({ kind: "consent_required", message: `the consent for ${loc.provider} cannot be used (${p.error}): an admin must approve access again at ${page}` });
        if (p.value.tokenUrl !== bundle.token_url) {
          return err({ kind: "consent_required", message: `the consent for ${loc.provider} was given at ${new URL(bundle.token_url).host}, and this connection's configuration points to ${new URL(p.value.tokenUrl).host}: an admin must approve access for it at ${page}` });
        }
      }
      // Atlassian: the connection's site must be one the grant reaches; its API base is the gateway with that site's cloudId
      const post = consentPostLookup(loc.provider);
      let gateway: string | undefined;
      if (post) {
        const g = atlassianGateway(post, bundle.cloud_ids, ctx.config);
        if (!g.ok) return err({ kind: "consent_required", message: `${g.error}: an admin must approve access for it at ${page}` });
        gateway = g.value;
      }
      const forAdapter = (b: SecretBundle) => ({ ...withoutBinding(b), ...(gateway ? { api_gateway: gateway } : {}) });
      // a kept refresh token renews the access token without asking the admin again
      const expiresAt = bundle.expires_at ? Date.parse(bundle.expires_at) : NaN;
      if (!(expiresAt <= now().getTime() + REFRESH_MARGIN_MS) || !bundle.refresh_token) return ok(forAdapter(bundle));
      const flight = JSON.stringify([ctx.tenantId, formatLocator(loc), bundle.access_token ?? ""]);
      let pending = renewing.get(flight);
      if (!pending) {
        pending = refreshConsentTokens({ db: deps.db, encryptionKey: k, now, timeoutMs, providers: lookup }, { tenantId: ctx.tenantId, provider: loc.provider, config: ctx.config, bundle }).finally(() => renewing.delete(flight));
        renewing.set(flight, pending);
      }
      const renewed = await pending;
      if (renewed.ok) return ok(forAdapter(renewed.value));
      return err({ kind: "consent_required", message: `the consent for ${loc.provider} expired and could not be renewed (${renewed.error}): an admin must approve access again at ${page}` });
    }
    // No tokens, expired ones, or ones we can no longer decrypt: all are fixed by consenting again.
    const why = stored.ok ? "" : ` (the stored consent could not be read: ${stored.error})`;
    return err({ kind: "consent_required", message: `admin consent for ${loc.provider} is required: an admin must approve access at ${page}${why}` });
  }

  return {
    // the operator shares AAM_SECRET_<NAME> with every organisation to use at its vendor's hosts;
    // another organisation's admin may approve any host of their own, so there it goes nowhere else
    async vendorHostsOnly(raw: string, tenantId: string): Promise<boolean> {
      if (!isInstallWideEnvLocator(raw, envPolicy().prefix)) return false;
      return !(await scopes(tenantId))?.isDefault;
    },
    async resolve(raw: string, ctx: ResolveContext): Promise<Outcome> {
      const secrets: string[] = [];
      try {
        const parsed = parseLocator(raw);
        if (!parsed.ok) return err({ kind: "invalid_locator", message: redact(`invalid credential locator: ${parsed.error}`) });
        const r = await dispatch(parsed.value, ctx, secrets);
        return r.ok ? r : err({ kind: r.error.kind, message: redact(r.error.message, secrets) });
      } catch (e) {
        throw new CredentialResolverError(redact(`credential resolution failed: ${(e as Error)?.message ?? String(e)}`, secrets));
      }
    },
  };
}

/** The adapter gets the tokens, not where consent was given (nor every site's cloudId). */
function withoutBinding(bundle: SecretBundle): SecretBundle {
  const { token_url: _ignored, cloud_ids: _sites, ...rest } = bundle;
  return rest;
}

function consentPostLookup(provider: string) {
  const mode = getCatalogEntry(provider)?.authModes.find((m) => m.type === "oauth2" && m.grant === "authorization_code");
  return mode?.type === "oauth2" ? mode.postConsent : undefined;
}

function resolveEnv(name: string, scope: TenantScope, policy: EnvPolicy, secrets: string[]): Outcome {
  const allowed = checkEnvName(name, scope, policy);
  if (!allowed.ok) return err({ kind: "missing", message: allowed.error });
  const value = lookupEnvVar(name);
  if (value === undefined) return err({ kind: "missing", message: `environment variable ${name} is not set` });
  secrets.push(value);
  const bundle = jsonBundle(value);
  if (bundle) secrets.push(...Object.values(bundle));
  return ok(bundle ?? { token: value });
}

/** A JSON object of strings becomes the bundle (e.g. {"user":"…","password":"…"}); anything else is not. */
function jsonBundle(value: string): SecretBundle | undefined {
  if (!value.trimStart().startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(value);
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    const entries = Object.entries(v);
    if (entries.length === 0 || !entries.every(([, x]) => typeof x === "string")) return undefined;
    return Object.fromEntries(entries) as SecretBundle;
  } catch {
    return undefined;
  }
}
