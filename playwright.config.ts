import fs from "node:fs";
import { defineConfig } from "@playwright/test";
import { childEnv, parseEnv } from "./server/env";

// Debian's Chromium (installed by .ci/run); on a machine with internet, Playwright's own browser works too.
const env = parseEnv(process.env);
const chromium = env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const executablePath = fs.existsSync(chromium) ? chromium : undefined;
const port = 3210;

export const E2E_USERS = {
  admin: { email: "admin@e2e.test", password: "admin-e2e-password" },
  exec: { email: "exec@e2e.test", password: "exec-e2e-password" },
};
export const E2E_API_KEY = "aam_e2etest1_e2e-api-key-0123456789abcdef";

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
      DATA_DIR: ".data-e2e",
      SEED_ADMIN_EMAIL: E2E_USERS.admin.email,
      SEED_ADMIN_PASSWORD: E2E_USERS.admin.password,
      SEED_EXEC_EMAIL: E2E_USERS.exec.email,
      SEED_EXEC_PASSWORD: E2E_USERS.exec.password,
      SEED_API_KEY: E2E_API_KEY,
      SANDBOX: "1",
      SANDBOX_HTTP_PORT: "4610",
      SANDBOX_S3_PORT: "4669",
    }) as Record<string, string>,
  },
});
