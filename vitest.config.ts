import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["server/**/*.test.ts", "scripts/**/*.test.ts", "tests/**/*.test.ts"],
    exclude: ["node_modules/**", "e2e/**", ".data*/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // DATABASE_URL requires explicit keys (server/env.ts): tests get fixed ones unless given
    env: {
      AUTH_SECRET: process.env.AUTH_SECRET ?? "vitest-auth-secret-0123456789abcdef",
      ENCRYPTION_KEY: process.env.ENCRYPTION_KEY ?? "0123456789abcdef".repeat(4),
    },
    // next-auth's ESM imports `next/server` without an extension; let Vite resolve it
    server: { deps: { inline: ["next-auth", "@auth/core"] } },
  },
});
