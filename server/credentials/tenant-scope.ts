/**
 * Locators are resolved within the caller's tenant (DESIGN.md "Credentials"). This module holds
 * the naming rules that keep one tenant's secrets out of another's reach:
 *
 *  env:<VAR>   only variables under SECRET_ENV_PREFIX (default `AAM_SECRET_`):
 *                AAM_SECRET_<TENANT>__<NAME>  only tenant <TENANT> (its slug, upper-cased, - as _)
 *                AAM_SECRET_<NAME>            (no `__`) an install-wide secret the operator shares
 *              and, while the sandboxes run, exactly the sandboxes' own variables
 *              (SANDBOX_SECRET_ENV_VARS). Never the app's own variables (DATABASE_URL, AUTH_SECRET,
 *              ENCRYPTION_KEY, SEED_*, SSO_*, SP_*, OAUTH_*, VAULT_*, PG*, AWS_*, HOME, PATH, …).
 *  vault:<p>   read at <VAULT_KV_MOUNT>/<VAULT_TENANT_PREFIX with {tenant} = slug><p>
 *              (default secret/aam/tenants/<slug>/<p>); the locator grammar already refuses
 *              `.`/`..` segments, `//`, absolute paths and `%` (encoded traversal).
 *  sp:<name>   client id/secret from SP_<NAME>_CLIENT_ID/_CLIENT_SECRET for the install's default
 *              tenant (slug `default`), and SP_<TENANT>__<NAME>_CLIENT_ID/_CLIENT_SECRET for every
 *              other tenant; a `__` inside <NAME> is refused so the two forms never overlap.
 */
import { parseLocator } from "./locator";
import { lru } from "../lib/lru";
import type { Db } from "../db/client";
import { SANDBOX_SECRET_ENV_VARS } from "../connectors/sandbox/secret-env";
import { getEnv, isOwnSecretEnvVar, isReservedEnvPrefix } from "../env";
import { err, ok, type Result } from "../lib/result";

/** The install's default tenant (server/db/seed.ts DEFAULT_TENANT_SLUG; not imported, to keep bcrypt and the seed data out of this path). */
export const DEFAULT_TENANT_SLUG = "default";

export type TenantScope = {
  id: string;
  slug: string;
  isDefault: boolean;
  /** the slug as it appears in variable names (ACME_EU for acme-eu); null when the slug cannot be written so */
  envKey: string | null;
};

const SLUG_FOR_ENV = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ENV_NAME_PART = /^[A-Z0-9]+(?:_[A-Z0-9]+)*$/;

export function envKeyForSlug(slug: string): string | null {
  return SLUG_FOR_ENV.test(slug) ? slug.toUpperCase().replace(/-/g, "_") : null;
}

/** The tenant's slug, cached per process (slugs do not change). */
export function createTenantScopes(db: Db, maxTenants = 5_000): (tenantId: string) => Promise<TenantScope | null> {
  const cache = lru<string, TenantScope>(maxTenants);
  return async (tenantId) => {
    const hit = cache.get(tenantId);
    if (hit) return hit;
    const row = await db.tenant.findUnique({ where: { id: tenantId }, select: { id: true, slug: true } });
    if (!row) return null;
    const scope = { id: row.id, slug: row.slug, isDefault: row.slug === DEFAULT_TENANT_SLUG, envKey: envKeyForSlug(row.slug) };
    cache.set(tenantId, scope);
    return scope;
  };
}

export type EnvPolicy = { prefix: string; sandboxRunning: boolean };

export function envPolicyFromEnv(): EnvPolicy {
  const e = getEnv();
  return { prefix: e.SECRET_ENV_PREFIX, sandboxRunning: !!e.SANDBOX_ENDPOINTS };
}

/**
 * Whether `env:<name>` may be read for this tenant; the refusal says in words which names can.
 * The same refusal is given whether or not the variable is set, so it reveals nothing.
 */
export function checkEnvName(name: string, scope: TenantScope, policy: EnvPolicy): Result<string, string> {
  if (policy.sandboxRunning && (SANDBOX_SECRET_ENV_VARS as readonly string[]).includes(name)) return ok(name);
  const scoped = scope.envKey ? `${policy.prefix}${scope.envKey}__<NAME>` : null;
  const refusal = `env:${name} cannot be used: env: locators read only variables named ${policy.prefix}<NAME> (shared by this install) or ${scoped ?? `${policy.prefix}<TENANT>__<NAME>`} (this organisation's own)`;
  // the prefix itself was checked at start-up, but a misconfigured one must never open the app's variables
  if (policy.prefix.length < 5 || isReservedEnvPrefix(policy.prefix) || isOwnSecretEnvVar(name)) return err(refusal);
  if (!name.startsWith(policy.prefix)) return err(refusal);
  const rest = name.slice(policy.prefix.length);
  const sep = rest.indexOf("__");
  if (sep === -1) return ENV_NAME_PART.test(rest) ? ok(name) : err(refusal);
  const owner = rest.slice(0, sep);
  const own = rest.slice(sep + 2);
  if (!scope.envKey || owner !== scope.envKey || !ENV_NAME_PART.test(own)) return err(refusal);
  return ok(name);
}

/**
 * True for `env:<PREFIX><NAME>` without a tenant part: a secret the operator shares with every
 * tenant (checkEnvName). Judged on the parsed locator, as the resolver reads it: `ENV:…`, ` env:…`
 * name the same variable and must not escape the limit (trust-boundary audit).
 */
export function isInstallWideEnvLocator(locator: string, prefix: string): boolean {
  const parsed = parseLocator(locator);
  if (!parsed.ok || parsed.value.scheme !== "env") return false;
  const name = parsed.value.name;
  return name.startsWith(prefix) && !name.slice(prefix.length).includes("__");
}

/** The variable-name stem of `sp:<name>` for this tenant (SP_REPORTING or SP_ACME__REPORTING). */
export function spEnvStem(name: string, scope: TenantScope): Result<string, string> {
  const key = name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  if (key.includes("__") || key.startsWith("_") || key.endsWith("_")) {
    return err(`sp:${name} cannot be used: a service principal name must not start or end with, or contain two, separators (_ . -)`);
  }
  if (scope.isDefault) return ok(`SP_${key}`);
  if (!scope.envKey) return err(`sp:${name} cannot be used: this organisation's slug "${scope.slug}" cannot be written in a variable name`);
  return ok(`SP_${scope.envKey}__${key}`);
}

/** The tenant's Vault folder inside the KV mount (`aam/tenants/acme/`). */
export function vaultTenantFolder(template: string, scope: TenantScope): Result<string, string> {
  // the slug becomes one path segment: nothing that could climb or split it
  if (!/^[A-Za-z0-9_@=,+-][A-Za-z0-9_.@=,+-]*$/.test(scope.slug) || scope.slug.includes("..")) {
    return err(`vault: this organisation's slug "${scope.slug}" cannot be a Vault folder name`);
  }
  return ok(template.split("{tenant}").join(scope.slug));
}
