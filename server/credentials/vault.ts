/**
 * HashiCorp Vault KV v2 over plain fetch: `GET {addr}/v1/{mount}/data/{path}` with X-Vault-Token
 * (and X-Vault-Namespace), authenticated by VAULT_TOKEN or an AppRole login whose token is
 * cached for its lease. Every expected failure is a CredentialFailure value; messages name the
 * path, never a token, and pass through redact().
 *
 * Paths are confined to the caller's tenant folder (VAULT_TENANT_PREFIX, tenant-scope.ts): a
 * locator's path is always read below it. "Not found", "deleted" and "permission denied" give one
 * and the same message, so a caller learns nothing about which paths exist.
 */
import { getEnv } from "../env";
import { err, ok, type Result } from "../lib/result";
import { redact } from "./redact";
import type { CredentialFailure, SecretBundle } from "./types";

export type VaultConfig = {
  addr?: string;
  token?: string;
  roleId?: string;
  secretId?: string;
  namespace?: string;
  mount: string;
};

export function vaultConfigFromEnv(): VaultConfig {
  const e = getEnv();
  return { addr: e.VAULT_ADDR, token: e.VAULT_TOKEN, roleId: e.VAULT_ROLE_ID, secretId: e.VAULT_SECRET_ID, namespace: e.VAULT_NAMESPACE, mount: e.VAULT_KV_MOUNT };
}

export type VaultClientDeps = { fetch?: typeof fetch; now?: () => Date; timeoutMs?: number };
export type VaultClient = {
  /** `folder`: the tenant's folder inside the mount (`aam/tenants/acme/`), prefixed to `path` */
  read(config: VaultConfig, path: string, key: string | undefined, folder: string): Promise<Result<SecretBundle, CredentialFailure>>;
};

type CachedToken = { token: string; expiresAt: number | null };
type Failure = CredentialFailure;

const missing = (message: string): Failure => ({ kind: "missing", message });
const unreadable = (message: string): Failure => ({ kind: "unreadable", message });

export function createVaultClient(deps: VaultClientDeps = {}): VaultClient {
  const doFetch = deps.fetch ?? fetch;
  const now = deps.now ?? (() => new Date());
  const timeoutMs = deps.timeoutMs ?? 5_000;
  // Keyed by server, namespace and role, so a config change never reuses another role's token.
  const tokens = new Map<string, Promise<Result<CachedToken, Failure>>>();

  async function call(config: VaultConfig, method: "GET" | "POST", apiPath: string, token?: string, body?: unknown): Promise<Result<{ status: number; json: unknown }, Failure>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers["X-Vault-Token"] = token;
    if (config.namespace) headers["X-Vault-Namespace"] = config.namespace;
    if (body !== undefined) headers["content-type"] = "application/json";
    const url = `${config.addr!.replace(/\/+$/, "")}/v1/${apiPath}`;
    try {
      const res = await doFetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      return ok({ status: res.status, json });
    } catch (e) {
      const name = (e as Error).name;
      if (name === "TimeoutError" || name === "AbortError") return err(unreadable(`Vault did not answer within ${timeoutMs / 1000} s`));
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      return err(unreadable(`Vault is unreachable (${cause?.code ?? cause?.message ?? (e as Error).message})`));
    }
  }

  function cacheKey(c: VaultConfig): string {
    return `${c.addr}|${c.namespace ?? ""}|${c.roleId ?? ""}`;
  }

  async function login(config: VaultConfig): Promise<Result<CachedToken, Failure>> {
    const r = await call(config, "POST", "auth/approle/login", undefined, { role_id: config.roleId, secret_id: config.secretId });
    if (!r.ok) return r;
    const { status, json } = r.value;
    if (status !== 200) return err(statusFailure(status, json, "Vault AppRole login"));
    const auth = (json as { auth?: { client_token?: unknown; lease_duration?: unknown } } | null)?.auth;
    if (typeof auth?.client_token !== "string" || auth.client_token === "") return err(unreadable("Vault AppRole login returned no client token"));
    const lease = typeof auth.lease_duration === "number" ? auth.lease_duration : 0;
    // lease_duration 0 is a non-expiring token.
    return ok({ token: auth.client_token, expiresAt: lease > 0 ? now().getTime() + lease * 1000 : null });
  }

  /** The token to use and whether it came from the cache (only a cached token is worth re-login on 403). */
  async function token(config: VaultConfig): Promise<Result<{ token: string; cached: boolean }, Failure>> {
    if (config.token) return ok({ token: config.token, cached: false });
    if (!config.roleId) return err(missing("Vault has no credentials configured: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID"));
    const k = cacheKey(config);
    const hit = tokens.get(k);
    if (hit) {
      const t = await hit;
      if (t.ok && (t.value.expiresAt === null || t.value.expiresAt > now().getTime())) return ok({ token: t.value.token, cached: true });
      if (tokens.get(k) === hit) tokens.delete(k);
    }
    // Concurrent resolutions share one login instead of each starting their own.
    const pending = login(config);
    tokens.set(k, pending);
    const t = await pending;
    if (!t.ok) {
      if (tokens.get(k) === pending) tokens.delete(k);
      return t;
    }
    return ok({ token: t.value.token, cached: false });
  }

  async function read(config: VaultConfig, path: string, key: string | undefined, folder: string): Promise<Result<SecretBundle, Failure>> {
    if (!config.addr) return err(missing("Vault is not configured: set VAULT_ADDR"));
    // defence in depth: the locator grammar refuses these already
    const segments = `${folder}${path}`.split("/");
    if (path.startsWith("/") || segments.some((s) => s === "" || s === "." || s === ".." || /%|\\/.test(s))) return err(missing(`Vault path ${path} is not allowed`));
    const where = path;
    const notAvailable = missing(`Vault secret ${where} is not available to this organisation (it does not exist under ${config.mount}/${folder}, or this server's Vault identity may not read it)`);
    const apiPath = `${config.mount}/data/${segments.map(encodeURIComponent).join("/")}`;
    let t = await token(config);
    if (!t.ok) return t;
    let r = await call(config, "GET", apiPath, t.value.token);
    if (r.ok && r.value.status === 403 && t.value.cached) {
      // The cached AppRole token may have been revoked before its lease ran out: log in once more.
      tokens.delete(cacheKey(config));
      t = await token(config);
      if (!t.ok) return t;
      r = await call(config, "GET", apiPath, t.value.token);
    }
    if (!r.ok) return r;
    const { status, json } = r.value;
    const body = json as { data?: { data?: unknown; metadata?: { deletion_time?: unknown; destroyed?: unknown } } } | null;
    // not found, deleted and denied look the same from outside: nothing tells which paths exist
    if (status === 404 || (status === 403 && !vaultErrors(json).some((e) => /sealed/i.test(e)))) return err(notAvailable);
    if (status !== 200) return err(statusFailure(status, json, `reading Vault secret ${where}`));
    const data = body?.data?.data;
    if (data === null || data === undefined) return err(notAvailable);
    if (typeof data !== "object" || Array.isArray(data)) return err(unreadable(`Vault secret ${where} is not a KV v2 secret`));
    const bundle = toBundle(data as Record<string, unknown>);
    if (key === undefined) return ok(bundle);
    if (!(key in bundle)) return err(missing(`Vault secret ${where} has no field "${key}"`));
    return ok({ [key]: bundle[key]! });
  }

  return {
    async read(config, path, key, folder) {
      const r = await read(config, path, key, folder);
      if (r.ok) return r;
      return err({ kind: r.error.kind, message: redact(r.error.message, [config.token, config.secretId]) });
    },
  };
}

/** KV v2 values may be any JSON; adapters get strings, so non-strings travel as JSON text. */
function toBundle(data: Record<string, unknown>): SecretBundle {
  const out: SecretBundle = {};
  for (const [k, v] of Object.entries(data)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

function vaultErrors(json: unknown): string[] {
  const errors = (json as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === "string") : [];
}

function statusFailure(status: number, json: unknown, what: string): Failure {
  const errors = vaultErrors(json);
  if (status === 503 || errors.some((e) => /vault is sealed/i.test(e))) return unreadable("Vault is sealed");
  const detail = errors.length ? `: ${errors.join("; ").slice(0, 200)}` : "";
  if (status === 403) return unreadable(`${what}: access denied (HTTP 403${detail})`);
  return unreadable(`${what} failed (HTTP ${status}${detail})`);
}
