/**
 * The environment variables the running sandboxes hand to the app for the sample intents'
 * `env:` locators (server/connectors/sandbox/index.ts sets exactly these). While the sandboxes
 * run (SANDBOX_ENDPOINTS is set by the launcher), `env:` may resolve exactly this list besides
 * the variables under SECRET_ENV_PREFIX; nothing else outside the prefix, ever.
 */
export const SANDBOX_SECRET_ENV_VARS = ["SANDBOX_TOKEN", "SANDBOX_SALESFORCE_TOKEN", "SANDBOX_PG_DSN", "SANDBOX_S3_CREDENTIALS", "SANDBOX_FILES_TOKEN"] as const;

export type SandboxSecretEnvVar = (typeof SANDBOX_SECRET_ENV_VARS)[number];
