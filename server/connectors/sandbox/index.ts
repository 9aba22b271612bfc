/**
 * SANDBOX sources for a fresh machine and for tests — not real vendors. Starts the local HTTP
 * service that replays the vendors' documented responses (Salesforce, Slack, GitHub, Jira,
 * Zendesk, an OpenAPI spec), the S3-protocol server (s3rver), the read-only `sandbox` schema in
 * the app's own PostgreSQL, and points at the seeded files. Returns the endpoints (for
 * `sandbox:<name>` references in intent config) and the environment variables that the
 * sample intents' `env:` credential locators read.
 */
import path from "node:path";
import { ensurePostgresSandbox } from "./postgres-sandbox";
import { startHttpSandbox, SANDBOX_VENDORS } from "./http-sandbox";
import { startS3Sandbox } from "./s3-sandbox";
import type { SandboxSecretEnvVar } from "./secret-env";

export { SANDBOX_SECRET_ENV_VARS } from "./secret-env";

export type SandboxSet = { endpoints: Record<string, string>; env: Record<string, string>; stop: () => Promise<void> };

export const SANDBOX_FILES_DIR = path.resolve(import.meta.dirname, "..", "..", "..", "seeds", "sandbox", "files");

export async function startSandboxes(opts: { dataDir: string; adminDatabaseUrl: string; httpPort: number; s3Port: number; filesDir?: string }): Promise<SandboxSet> {
  const filesDir = opts.filesDir ?? SANDBOX_FILES_DIR;
  const http = await startHttpSandbox({ port: opts.httpPort });
  const s3 = await startS3Sandbox({ dir: path.join(opts.dataDir, "s3-sandbox"), port: opts.s3Port, filesDir }).catch(async (e: unknown) => {
    await http.close();
    throw e;
  });
  const pg = await ensurePostgresSandbox(opts.adminDatabaseUrl);
  const endpoints: Record<string, string> = { files: filesDir, s3: s3.endpoint, http: http.baseUrl };
  for (const v of SANDBOX_VENDORS) endpoints[v] = http.urlFor(v);
  // where the read-only sandbox schema is served (host and port only: the DSN with its password is a secret)
  const pgAt = new URL(pg.url);
  endpoints.postgres = `postgresql://${pgAt.host}`;
  // the secrets: exactly SANDBOX_SECRET_ENV_VARS (the only names outside SECRET_ENV_PREFIX that env: resolves, and only while sandboxes run)
  const secrets: Record<SandboxSecretEnvVar, string> = {
    SANDBOX_TOKEN: http.token,
    SANDBOX_SALESFORCE_TOKEN: JSON.stringify({ access_token: http.token, instance_url: http.urlFor("salesforce") }),
    SANDBOX_PG_DSN: pg.url,
    SANDBOX_S3_CREDENTIALS: JSON.stringify({ access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey }),
    SANDBOX_FILES_TOKEN: "local-files",
  };
  const env: Record<string, string> = { SANDBOX_ENDPOINTS: JSON.stringify(endpoints), ...secrets };
  return {
    endpoints,
    env,
    stop: async () => {
      await Promise.allSettled([http.close(), s3.close()]);
    },
  };
}

export { resolveSandboxRefs } from "./refs";
