/**
 * The one place that reads the process environment (DESIGN.md "Configuration is one
 * zod-validated env module"). Everything else imports `env` or calls `childEnv()`.
 *
 * Secrets that are unset in the embedded default (AUTH_SECRET, ENCRYPTION_KEY) are
 * generated once into DATA_DIR/secrets.json so the web process, workers and CLIs agree.
 * With DATABASE_URL they must be given: a worker or CLI on a second machine must never
 * generate its own key and write tokens the web app cannot read.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

const bool = z
  .enum(["1", "0", "true", "false", "on", "off", "yes", "no", ""])
  .transform((v) => ["1", "true", "on", "yes"].includes(v));

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOST: z.string().default("127.0.0.1"),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default(".data"),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  AUTH_SECRET: z.string().min(16).optional(),
  ENCRYPTION_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$|^[A-Za-z0-9+/]{43}=$/, "must be 32 bytes as 64 hex chars or base64")
    .optional(),
  /** earlier ENCRYPTION_KEYs (comma-separated), still read until `npm run rekey` re-encrypted what is stored */
  ENCRYPTION_KEY_PREVIOUS: z
    .string()
    .transform((s) => s.split(",").map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[0-9a-fA-F]{64}$|^[A-Za-z0-9+/]{43}=$/, "must list 32-byte keys as 64 hex chars or base64, comma-separated")).max(8))
    .optional(),
  /** the app's public origin: sign-in and single sign-on build every redirect URI from it */
  AUTH_URL: z.string().url().optional(),
  SEED_ADMIN_EMAIL: z.string().email().default("admin@example.com"),
  SEED_ADMIN_PASSWORD: z.string().min(8).optional(),
  SEED_EXEC_EMAIL: z.string().email().default("exec@example.com"),
  SEED_EXEC_PASSWORD: z.string().min(8).optional(),
  SEED_API_KEY: z.string().min(20).optional(),
  SLO_TARGET: z.coerce.number().min(0).max(1).default(0.9),
  VAULT_ADDR: z.string().url().optional(),
  VAULT_TOKEN: z.string().optional(),
  VAULT_ROLE_ID: z.string().optional(),
  VAULT_SECRET_ID: z.string().optional(),
  VAULT_NAMESPACE: z.string().optional(),
  // KV v2 mount that `vault:<path>` locators are relative to.
  VAULT_KV_MOUNT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, "must be a mount path such as secret or kv/team")
    .default("secret"),
  /** `vault:<path>` locators are read under this per-tenant folder of the KV mount; `{tenant}` is the tenant's slug */
  VAULT_TENANT_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9_.@=,+-]+\/|\{tenant\}\/)*$/, "must be folders ending in /, such as aam/tenants/{tenant}/")
    .refine((s) => s.includes("{tenant}/") && !s.split("/").some((seg) => seg === "." || seg === ".."), "must contain the {tenant} folder (and no . or ..)")
    .default("aam/tenants/{tenant}/"),
  /** `env:<VAR>` locators resolve only variables whose name starts with this (never the app's own variables) */
  SECRET_ENV_PREFIX: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{3,62}_$/, "must be at least 5 characters of A-Z, 0-9 and _, ending in _ (e.g. AAM_SECRET_)")
    .refine((p) => !isReservedEnvPrefix(p), "must not overlap the app's own variables (AUTH_, DATABASE_, SEED_, SSO_, SP_, OAUTH_, VAULT_, PG, AWS_ …)")
    .default("AAM_SECRET_"),
  SANDBOX: bool.optional(),
  SANDBOX_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(4510),
  SANDBOX_S3_PORT: z.coerce.number().int().min(0).max(65535).default(4569),
  /** set by the launcher for its children: where the running sandboxes are (JSON name → URL/path) */
  SANDBOX_ENDPOINTS: z
    .string()
    .transform((s, ctx) => {
      try {
        return z.record(z.string(), z.string()).parse(JSON.parse(s));
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON object of strings" });
        return z.NEVER;
      }
    })
    .optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(25),
  /** run the job worker inside the web process (the embedded default); off when `npm run worker` processes do it */
  RUN_WORKER: bool.optional(),
  /** re-queue onboarding attempts that stopped making progress (a killed worker) after this long */
  STUCK_AFTER_MS: z.coerce.number().int().min(1_000).default(120_000),
  /** loopback/private addresses for sources (sandbox, on-prem); link-local/metadata stay refused */
  EGRESS_ALLOW_PRIVATE: bool.optional(),
  ONBOARD_TIME_BUDGET_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  API_RATE_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  CHROMIUM_PATH: z.string().optional(),
  /** optional single sign-on (Okta, Entra ID or any OpenID Connect issuer) */
  SSO_ISSUER: z.string().url().optional(),
  SSO_CLIENT_ID: z.string().min(1).optional(),
  SSO_CLIENT_SECRET: z.string().min(1).optional(),
  SSO_NAME: z.string().min(1).max(40).default("single sign-on"),
  /** comma-separated emails that get the admin role on their first SSO sign-in (others: exec) */
  SSO_ADMIN_EMAILS: z
    .string()
    .transform((s) => s.split(",").map((e) => e.trim().toLowerCase()).filter(Boolean))
    .optional(),
  /** `make smoke-90`: the running app to post to (default http://127.0.0.1:PORT; started if down) */
  SMOKE_URL: z.string().url().optional(),
  /** public origin of this app for the OAuth consent redirect URI (`<origin>/api/oauth/callback`); default: the request's origin */
  OAUTH_REDIRECT_BASE_URL: z.string().url().optional(),
  /** SANDBOX only: also accept bearer tokens that this RFC 7662 introspection endpoint says are active (consent-issued tokens) */
  SANDBOX_INTROSPECTION_URL: z.string().url().optional(),
  SANDBOX_INTROSPECTION_CLIENT_ID: z.string().optional(),
  SANDBOX_INTROSPECTION_CLIENT_SECRET: z.string().optional(),
});

export type Env = z.infer<typeof EnvSchema> & {
  /** true when DATABASE_URL was not given and the launcher runs its own PostgreSQL */
  embedded: boolean;
  /** Sandbox sources on: default on in the embedded default, off with a DATABASE_URL */
  sandbox: boolean;
  runWorker: boolean;
  allowPrivateEgress: boolean;
  dataDir: string;
};

type LocalSecrets = { AUTH_SECRET: string; ENCRYPTION_KEY: string };

function readLocalSecrets(dataDir: string, create: boolean): LocalSecrets | undefined {
  const file = path.join(dataDir, "secrets.json");
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as LocalSecrets;
  } catch {
    if (!create) return undefined;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secrets: LocalSecrets = {
    AUTH_SECRET: randomBytes(32).toString("base64url"),
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  };
  // "wx": two processes starting at once must not overwrite each other's key.
  try {
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: "wx" });
    return secrets;
  } catch {
    return JSON.parse(fs.readFileSync(file, "utf8")) as LocalSecrets;
  }
}

export class EnvError extends Error {}

/** Families of variable names that belong to this app, its platform or the machine: never a `SECRET_ENV_PREFIX`. */
const RESERVED_ENV_PREFIXES = ["AUTH_", "DATABASE_", "ENCRYPTION_", "SEED_", "SSO_", "SP_", "OAUTH_", "VAULT_", "PG", "AWS_", "NODE_", "NEXT_", "NPM_", "SANDBOX_", "EMBEDDED_", "SECRET_ENV_", "HOME", "PATH", "LD_", "SSH_", "GIT_", "CI_"];
export function isReservedEnvPrefix(prefix: string): boolean {
  return RESERVED_ENV_PREFIXES.some((r) => prefix.startsWith(r) || r.startsWith(prefix));
}

/**
 * `createSecrets`: generate DATA_DIR/secrets.json in the embedded default when missing.
 * `needsKeys: false`: for commands that never sign or decrypt anything (migrations), which may
 * run with only DATABASE_URL.
 */
export function parseEnv(source: Record<string, string | undefined>, opts: { createSecrets?: boolean; needsKeys?: boolean } = {}): Env {
  // an empty SECRET_ENV_PREFIX must not quietly mean "every variable" or "the default": it is refused
  if (source.SECRET_ENV_PREFIX !== undefined && source.SECRET_ENV_PREFIX.trim() === "") throw new EnvError("Invalid configuration:\n  SECRET_ENV_PREFIX: must not be empty (unset it for the default AAM_SECRET_)");
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new EnvError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const embedded = !e.DATABASE_URL;
  let { AUTH_SECRET, ENCRYPTION_KEY } = e;
  if (!embedded && opts.needsKeys !== false && (!AUTH_SECRET || !ENCRYPTION_KEY)) {
    const missing = [!AUTH_SECRET && "AUTH_SECRET", !ENCRYPTION_KEY && "ENCRYPTION_KEY"].filter(Boolean).join(" and ");
    throw new EnvError(`DATABASE_URL is set, so ${missing} must be set too, to the same value${missing.includes(" and ") ? "s" : ""} on every machine that uses this database (a generated key would write tokens the other processes cannot read); generate one with \`openssl rand -hex 32\`.`);
  }
  if (embedded && (!AUTH_SECRET || !ENCRYPTION_KEY)) {
    const local = readLocalSecrets(dataDir, opts.createSecrets ?? false);
    AUTH_SECRET ??= local?.AUTH_SECRET;
    ENCRYPTION_KEY ??= local?.ENCRYPTION_KEY;
  }
  const sandbox = e.SANDBOX ?? embedded;
  return { ...e, AUTH_SECRET, ENCRYPTION_KEY, embedded, sandbox, dataDir, runWorker: e.RUN_WORKER ?? true, allowPrivateEgress: e.EGRESS_ALLOW_PRIVATE ?? sandbox };
}

let cached: Env | undefined;

/** The parsed environment of this process (parsed on first use). */
export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

export const env: Env = new Proxy({} as Env, {
  get: (_t, key) => getEnv()[key as keyof Env],
});

/** Environment for a child process: this process's environment plus overrides. */
export function childEnv(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

export function requireDatabaseUrl(): string {
  const url = getEnv().DATABASE_URL;
  if (!url) throw new EnvError("DATABASE_URL is not set. Start the app with `npm start`, which provides one.");
  return url;
}

/** Used by tests that must change configuration in-process. */
export function resetEnvForTests(): void {
  cached = undefined;
}

/**
 * The `env:<VAR>` credential locator reads a variable by name. Only names that look like
 * environment variables are read, and never this app's own secrets.
 */
const OWN_SECRETS = new Set(["AUTH_SECRET", "ENCRYPTION_KEY", "ENCRYPTION_KEY_PREVIOUS", "SSO_CLIENT_SECRET", "DATABASE_URL", "VAULT_TOKEN", "VAULT_SECRET_ID", "SEED_ADMIN_PASSWORD", "SEED_EXEC_PASSWORD", "SEED_API_KEY"]);
/** True for variables that hold this app's own secrets, which `env:` locators may never read. */
export function isOwnSecretEnvVar(name: string): boolean {
  return OWN_SECRETS.has(name) || /^OAUTH_[A-Z0-9_]+_CLIENT_SECRET$/.test(name) || name === "SANDBOX_INTROSPECTION_CLIENT_SECRET";
}
export function lookupEnvVar(name: string): string | undefined {
  if (!/^[A-Z_][A-Z0-9_]{0,127}$/.test(name) || isOwnSecretEnvVar(name)) return undefined;
  const v = process.env[name];
  return v === "" ? undefined : v;
}

/**
 * OAuth client settings for admin consent to one provider (`consent:<provider>`), from
 * OAUTH_<PROVIDER>_CLIENT_ID / _CLIENT_SECRET and the optional overrides _AUTHORIZE_URL,
 * _TOKEN_URL (another authorization server: on-prem, sandbox, tests), _ISSUER (RFC 9207 `iss`
 * check; default the authorize URL's origin), _RESOURCE (RFC 8707 resource indicator) and
 * _INSTANCE (per-instance vendors: the one instance host the client belongs to and serves).
 * `<PROVIDER>` is the provider name upper-cased with non-alphanumerics as `_`. Read on each call.
 */
export type OAuthProviderEnv = {
  clientId?: string;
  clientSecret?: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  issuer?: string;
  resource?: string;
  instance?: string;
};

/** An instance host as an OAuth client is registered for (lower case, optional port): OAUTH_<P>_INSTANCE and an organisation's OAuth app alike. */
export const INSTANCE_HOST_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;

const OAuthProviderEnvSchema = z.object({
  clientId: z.string().min(1).max(512).optional(),
  clientSecret: z.string().min(1).max(4096).optional(),
  authorizeUrl: z.string().url().optional(),
  tokenUrl: z.string().url().optional(),
  issuer: z.string().url().optional(),
  // RFC 8707: an absolute URI, often a URN (urn:example:api)
  resource: z.string().regex(/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/).max(2048).optional(),
  // the one instance (host, as the catalog's token URL names it) whose client CLIENT_ID is, for
  // vendors that register a client per instance: the install's client serves that instance only
  instance: z
    .string()
    .transform((h) => h.toLowerCase())
    .pipe(z.string().regex(INSTANCE_HOST_RE))
    .optional(),
});

export function oauthProviderEnvName(provider: string): string {
  return `OAUTH_${provider.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

export function oauthProviderEnv(provider: string, source: Record<string, string | undefined> = process.env): OAuthProviderEnv {
  const p = oauthProviderEnvName(provider);
  const read = (suffix: string) => {
    const v = source[`${p}_${suffix}`];
    return v === undefined || v === "" ? undefined : v;
  };
  const parsed = OAuthProviderEnvSchema.safeParse({
    clientId: read("CLIENT_ID"),
    clientSecret: read("CLIENT_SECRET"),
    authorizeUrl: read("AUTHORIZE_URL"),
    tokenUrl: read("TOKEN_URL"),
    issuer: read("ISSUER"),
    resource: read("RESOURCE"),
    instance: read("INSTANCE"),
  });
  if (!parsed.success) {
    // name the variable, never its value (the secret may be the one that is malformed)
    const names = parsed.error.issues.map((i) => `${p}_${String(i.path[0]).replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);
    throw new EnvError(`Invalid OAuth configuration: ${names.join(", ")}`);
  }
  return parsed.data;
}
