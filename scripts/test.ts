/**
 * `npm test`: the whole suite, on a fresh database every run.
 *  - DATABASE_URL set → uses that PostgreSQL server (creates and drops its own databases there);
 *  - unset → starts the embedded PostgreSQL in .data-test (never touching the app's .data).
 * Steps: migrations from empty + drift check (schema.prisma vs prisma/migrations), vitest
 * (unit + integration), then Playwright against the built app. Flags: --unit (skip e2e).
 * Without --unit, a Chromium must be found first (scripts/lib/chromium.ts), else it fails at once
 * with one sentence on how to get one.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { childEnv, parseEnv } from "../server/env";
import { applyMigrations } from "../server/db/migrate";
import { findChromium } from "./lib/chromium";
import { startEmbeddedPostgres, type EmbeddedPg } from "./lib/embedded-pg";
import { nodeVersionWarning, oneLine } from "./lib/preflight";

const root = path.resolve(import.meta.dirname, "..");
const args = new Set(process.argv.slice(2));
const say = (line: string) => console.log(`\n[test] ${line}`);

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: withDatabase(serverUrl, "postgres") });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv): number {
  const r = spawnSync(process.execPath, [path.join(root, "node_modules", ...cmd.split("/")), ...argv], { cwd: root, env, stdio: "inherit" });
  return r.status ?? 1;
}

async function main(): Promise<number> {
  // With DATABASE_URL the app never generates keys (server/env.ts): the suite brings its own,
  // inherited by vitest, Playwright and the app Playwright starts.
  for (const k of ["AUTH_SECRET", "ENCRYPTION_KEY"]) process.env[k] ||= randomBytes(32).toString("hex");
  const env = parseEnv(process.env);
  const warning = nodeVersionWarning(process.versions.node);
  if (warning) {
    console.warn(`[test] ${warning}`);
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"; // said once above
  }
  let chromiumPath: string | undefined;
  if (!args.has("--unit")) {
    const found = findChromium({ chromiumPath: env.CHROMIUM_PATH });
    if ("error" in found) {
      console.error(`[test] ${found.error}`);
      return 1;
    }
    chromiumPath = found.path;
    say(`Browser for the end-to-end tests: ${found.path} (${found.source}).`);
  }
  let embedded: EmbeddedPg | undefined;
  let serverUrl = env.DATABASE_URL;
  if (!serverUrl) {
    say("No DATABASE_URL: starting an embedded PostgreSQL for the tests in .data-test …");
    embedded = await startEmbeddedPostgres({ dataDir: path.join(root, ".data-test"), port: env.EMBEDDED_PG_PORT + 2, database: "postgres" });
    serverUrl = embedded.url;
  } else {
    say(`Using the PostgreSQL server from DATABASE_URL (${new URL(serverUrl).host}).`);
  }
  const stamp = `${Date.now().toString(36)}_${process.pid}`;
  const unitDb = `aam_test_${stamp}`;
  const e2eDb = `aam_e2e_${stamp}`;
  const dbs = [unitDb, e2eDb];
  let code = 0;
  try {
    await admin(serverUrl, async (c) => {
      for (const d of dbs) await c.query(`CREATE DATABASE "${d}"`);
    });
    const unitUrl = withDatabase(serverUrl, unitDb);
    const e2eUrl = withDatabase(serverUrl, e2eDb);

    say("Applying prisma/migrations to an empty database …");
    const m = await applyMigrations(unitUrl);
    console.log(`applied ${m.applied.length} of ${m.total}`);

    say("Drift check: prisma/migrations must produce exactly prisma/schema.prisma …");
    code = run("prisma/build/index.js", ["migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema-datamodel", "prisma/schema.prisma", "--exit-code"], childEnv({ DATABASE_URL: withDatabase(serverUrl, "postgres") }));
    if (code !== 0) {
      console.error("[test] prisma/schema.prisma and prisma/migrations differ: add a migration (see README).");
      return code;
    }

    say("Unit and integration tests (vitest) …");
    code = run("vitest/vitest.mjs", ["run"], childEnv({ DATABASE_URL: unitUrl, TEST_PG_SERVER_URL: serverUrl, NODE_ENV: "test" }));
    if (code !== 0 || args.has("--unit")) return code;

    say("End-to-end tests (Playwright in Chromium, built app) …");
    code = run("@playwright/test/cli.js", ["test"], childEnv({ DATABASE_URL: e2eUrl, NODE_ENV: undefined, CHROMIUM_PATH: chromiumPath }));
    return code;
  } finally {
    await admin(serverUrl, async (c) => {
      for (const d of dbs) await c.query(`DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`);
    }).catch((err: Error) => console.error(`[test] cleanup: ${err.message}`));
    await embedded?.stop();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(`[test] ${oneLine(err)}`);
    process.exit(1);
  });
