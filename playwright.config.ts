import { defineConfig } from "@playwright/test";
import { findChromium } from "./scripts/lib/chromium";
import { childEnv, parseEnv } from "./server/env";

// CHROMIUM_PATH, Debian's Chromium (installed by .ci/run) or Playwright's own (`npx playwright
// install chromium`); `npm test` refuses to start without one (scripts/lib/chromium.ts).
// With DATABASE_URL the app requires explicit keys (server/env.ts); `npm test` passes its own.
const keys = {
  AUTH_SECRET: process.env.AUTH_SECRET || "e2e-auth-secret-0123456789abcdef0123",
  ENCRYPTION_KEY: process.env.ENCRYPTION_KEY || "e2e0".repeat(16),
};
const env = parseEnv({ ...process.env, ...keys });
const found = findChromium({ chromiumPath: env.CHROMIUM_PATH });
if ("error" in found) throw new Error(found.error);
const executablePath = found.path;
const port = 3210;

export const E2E_USERS = {
  admin: { email: "admin@e2e.test", password: "admin-e2e-password" },
  exec: { email: "exec@e2e.test", password: "exec-e2e-password" },
};
export const E2E_API_KEY = "aam_e2etest1_e2e-api-key-0123456789abcdef";

/**
 * The authorization server the consent spec starts (e2e/consent/oauth-server.ts, oidc-provider):
 * the app's GitHub consent is pointed at it, and the sandbox accepts the access tokens it issues
 * by asking its RFC 7662 introspection endpoint.
 */
export const E2E_OAUTH = {
  port: 4650,
  issuer: "http://127.0.0.1:4650",
  resource: "urn:aam:e2e-sandbox-github",
  redirectUri: `http://127.0.0.1:${port}/api/oauth/callback`,
  consentClient: { clientId: "aam-e2e-consent", clientSecret: "e2e-consent-client-secret-0123456789" },
  sandboxClient: { clientId: "aam-e2e-sandbox", clientSecret: "e2e-sandbox-client-secret-0123456789" },
};

/** The OpenID Connect issuer e2e/sso/sso.spec.ts starts for single sign-on (oidc-provider). */
export const E2E_SSO = {
  port: 4651,
  issuer: "http://127.0.0.1:4651",
  clientId: "aam-e2e-sso",
  clientSecret: "e2e-sso-client-secret-0123456789abcdef",
  redirectUri: `http://127.0.0.1:${port}/api/auth/callback/sso`,
  adminEmail: "sso-admin@e2e.test",
  name: "E2E IdP",
};

export default defineConfig({
  testDir: "e2e",
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    },
  },
  webServer: {
    // the real launcher: migrations, seed, build if needed, next start
    command: "node --import tsx scripts/start.ts",
    url: `http://127.0.0.1:${port}/api/health`,
    timeout: 240_000,
    reuseExistingServer: false,
    stdout: "pipe",
    env: childEnv({
      PORT: String(port),
      ...keys,
      // the one origin every sign-in redirect URI is built from (server/auth/canonical-origin.ts)
      AUTH_URL: `http://127.0.0.1:${port}`,
      SSO_ISSUER: E2E_SSO.issuer,
      SSO_CLIENT_ID: E2E_SSO.clientId,
      SSO_CLIENT_SECRET: E2E_SSO.clientSecret,
      SSO_NAME: E2E_SSO.name,
      SSO_ADMIN_EMAILS: E2E_SSO.adminEmail,
      DATA_DIR: ".data-e2e",
      SEED_ADMIN_EMAIL: E2E_USERS.admin.email,
      SEED_ADMIN_PASSWORD: E2E_USERS.admin.password,
      SEED_EXEC_EMAIL: E2E_USERS.exec.email,
      SEED_EXEC_PASSWORD: E2E_USERS.exec.password,
      SEED_API_KEY: E2E_API_KEY,
      SANDBOX: "1",
      // a secret of the install's own organisation for the sandbox's GitHub stand-in (e2e/settings/secret-bindings.spec.ts)
      AAM_SECRET_E2E_GITHUB: "sandbox-token",
      AAM_SECRET_E2E_GITHUB_APPROVED: "sandbox-token",
      SANDBOX_HTTP_PORT: "4610",
      SANDBOX_S3_PORT: "4669",
      OAUTH_GITHUB_CLIENT_ID: E2E_OAUTH.consentClient.clientId,
      OAUTH_GITHUB_CLIENT_SECRET: E2E_OAUTH.consentClient.clientSecret,
      OAUTH_GITHUB_AUTHORIZE_URL: `${E2E_OAUTH.issuer}/auth`,
      OAUTH_GITHUB_TOKEN_URL: `${E2E_OAUTH.issuer}/token`,
      OAUTH_GITHUB_RESOURCE: E2E_OAUTH.resource,
      SANDBOX_INTROSPECTION_URL: `${E2E_OAUTH.issuer}/token/introspection`,
      SANDBOX_INTROSPECTION_CLIENT_ID: E2E_OAUTH.sandboxClient.clientId,
      SANDBOX_INTROSPECTION_CLIENT_SECRET: E2E_OAUTH.sandboxClient.clientSecret,
    }) as Record<string, string>,
  },
});
