/**
 * `npm start`: the whole app on one machine.
 *  - no DATABASE_URL → starts the embedded PostgreSQL in DATA_DIR (scripts/pg-server.ts);
 *  - applies migrations, seeds on first start (prints logins and the AOD API key once);
 *  - builds the Next.js app if the build is missing or older than the sources, in parallel with
 *    the database start, migrations and seed;
 *  - starts `next start` and stops everything cleanly on Ctrl-C.
 * Every start failure is one sentence with the fix (StartError), never a stack trace.
 * Flags: --no-web (database, migrations and seed only; used by tests), --rebuild.
 */
import { withHeapLimit } from "./lib/heap";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { childEnv, parseEnv } from "../server/env";
import { applyMigrations } from "../server/db/migrate";
import { createDb } from "../server/db/client";
import { seedDatabase, type SeedResult } from "../server/db/seed";
import { startEmbeddedPostgres, type EmbeddedPg } from "./lib/embedded-pg";
import { startSandboxes, type SandboxSet } from "../server/connectors/sandbox/index";
import { checkDataDir, checkPortsFree, describeDbError, nodeVersionWarning, oneLine, StartError } from "./lib/preflight";

const args = new Set(process.argv.slice(2));
const root = path.resolve(import.meta.dirname, "..");
const say = (line: string) => console.log(`[aam] ${line}`);

function newestSource(dirs: string[]): number {
  let newest = 0;
  const walk = (p: string) => {
    for (const d of fs.readdirSync(p, { withFileTypes: true })) {
      if (d.name === "node_modules" || d.name === "generated" || d.name.startsWith(".")) continue;
      const full = path.join(p, d.name);
      if (d.isDirectory()) walk(full);
      else newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  for (const d of dirs) {
    const full = path.join(root, d);
    if (!fs.existsSync(full)) continue;
    if (fs.statSync(full).isDirectory()) walk(full);
    else newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function needsBuild(): boolean {
  const id = path.join(root, ".next", "BUILD_ID");
  if (args.has("--rebuild") || !fs.existsSync(id)) return true;
  return newestSource(["app", "server", "components", "proxy.ts", "next.config.ts"]) > fs.statSync(id).mtimeMs;
}

function printFirstRun(seed: SeedResult, url: string, dataDir: string): void {
  if (!seed.created) {
    say(`Sign in at ${url} with the accounts created on first start (see ${path.join(dataDir, "first-run.txt")} if you kept it there).`);
    return;
  }
  const text = [
    `AAM Auto-Onboarding — created on first start (${new Date().toISOString()})`,
    `  URL:            ${url}`,
    `  Admin login:    ${seed.admin!.email} / ${seed.admin!.password}`,
    `  Exec login:     ${seed.exec!.email} / ${seed.exec!.password}`,
    `  AOD API key:    ${seed.apiKey}   (shown once; only its hash is stored)`,
    ``,
    `Try: curl -H "Authorization: Bearer ${seed.apiKey}" ${url}/api/metrics/funnel?namespace=autonomy`,
  ].join("\n");
  console.log(`\n${text}\n`);
  fs.writeFileSync(path.join(dataDir, "first-run.txt"), `${text}\n`, { mode: 0o600 });
  say(`These were also written to ${path.join(dataDir, "first-run.txt")} (readable by you only); delete it once noted.`);
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error("The web server exited during start-up.");
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("The web server did not answer /api/health within 120 s.");
}

/** `next build` as a child; resolves when it is done (run while the database starts). */
function build(nextBin: string, env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<void> } {
  const child = spawn(process.execPath, [nextBin, "build"], { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (e) => reject(new StartError(`Could not run next build (${e.message}); run \`npm install\` again.`)));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new StartError("next build failed (see above); fix the error it shows, or run `npm install` again if files are missing."))));
  });
  done.catch(() => undefined); // awaited by the caller
  return { child, done };
}

async function main(): Promise<void> {
  const warning = nodeVersionWarning(process.versions.node);
  if (warning) {
    console.warn(`[aam] ${warning}`);
    // said once above; the AWS SDK would repeat it in 8 lines in every process
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  }
  checkDataDir(parseEnv(process.env).dataDir);
  const env = parseEnv(process.env, { createSecrets: true });
  const web = !args.has("--no-web");
  await checkPortsFree([
    ...(web ? [{ port: env.PORT, host: env.HOST, name: "PORT" }] : []),
    ...(env.sandbox ? [{ port: env.SANDBOX_HTTP_PORT, name: "SANDBOX_HTTP_PORT" }, { port: env.SANDBOX_S3_PORT, name: "SANDBOX_S3_PORT" }] : []),
  ]);
  let pgServer: EmbeddedPg | undefined;
  let webChild: ChildProcess | undefined;
  let building: { child: ChildProcess; done: Promise<void> } | undefined;
  let sandbox: SandboxSet | undefined;
  let shuttingDown = false;

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (building && building.child.exitCode === null) building.child.kill("SIGTERM");
    if (webChild && webChild.exitCode === null) {
      const exited = new Promise((r) => webChild!.once("exit", r));
      webChild.kill("SIGTERM");
      // the web process's worker finishes or hands back its attempts within 10 s (the database must stay up meanwhile)
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_500))]);
    }
    await sandbox?.stop();
    await pgServer?.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  fail = (err) => {
    console.error(`[aam] Could not start: ${oneLine(err)}`);
    void shutdown(1);
  };

  // The build needs no database: start it now, beside initdb, migrations, seed and sandboxes.
  const guard = path.join(root, "scripts", "parent-guard.cjs");
  const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
  if (web && needsBuild()) {
    say("Building the web app in the background (first start or sources changed; about 30 s)…");
    const buildEnv = childEnv({ AUTH_SECRET: env.AUTH_SECRET, ENCRYPTION_KEY: env.ENCRYPTION_KEY, DATABASE_URL: undefined });
    building = build(nextBin, { ...buildEnv, NODE_OPTIONS: `${buildEnv.NODE_OPTIONS ?? ""} --require ${guard}`.trim() });
  }

  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    say(`No DATABASE_URL: starting the embedded PostgreSQL in ${path.join(env.dataDir, "pg")} (port ${env.EMBEDDED_PG_PORT})…`);
    pgServer = await startEmbeddedPostgres({ dataDir: env.dataDir, port: env.EMBEDDED_PG_PORT, log: say });
    databaseUrl = pgServer.url;
    pgServer.child.on("exit", (code) => {
      if (!shuttingDown) {
        console.error(`[aam] The embedded PostgreSQL stopped unexpectedly (code ${code}).`);
        void shutdown(1);
      }
    });
  } else {
    say("Using the PostgreSQL server given by DATABASE_URL.");
  }

  const migrated = await applyMigrations(databaseUrl).catch((e: unknown) => {
    throw new StartError(describeDbError(e, databaseUrl!, !env.DATABASE_URL));
  });
  say(migrated.applied.length ? `Applied ${migrated.applied.length} migration(s).` : `Database schema is up to date (${migrated.total} migrations).`);

  const db = createDb(databaseUrl, 2);
  const seed = await seedDatabase(db, {
    adminEmail: env.SEED_ADMIN_EMAIL,
    adminPassword: env.SEED_ADMIN_PASSWORD,
    execEmail: env.SEED_EXEC_EMAIL,
    execPassword: env.SEED_EXEC_PASSWORD,
    apiKey: env.SEED_API_KEY,
    sloTarget: env.SLO_TARGET,
  });
  await db.$disconnect();

  if (env.sandbox) {
    sandbox = await startSandboxes({ dataDir: env.dataDir, adminDatabaseUrl: databaseUrl, httpPort: env.SANDBOX_HTTP_PORT, s3Port: env.SANDBOX_S3_PORT });
    say(`SANDBOX sources are on (local stand-ins, not real vendors): vendor APIs at ${sandbox.endpoints.http}, S3 at ${sandbox.endpoints.s3}, a read-only "sandbox" schema, and files in seeds/sandbox/files. SANDBOX=0 turns them off.`);
  }

  const publicUrl = `http://localhost:${env.PORT}`;
  const children = childEnv({ DATABASE_URL: databaseUrl, AUTH_SECRET: env.AUTH_SECRET, ENCRYPTION_KEY: env.ENCRYPTION_KEY, AUTH_TRUST_HOST: "true",
    // the children see a DATABASE_URL, so they must be told what the embedded default decided
    SANDBOX: env.sandbox ? "1" : "0", EGRESS_ALLOW_PRIVATE: env.allowPrivateEgress ? "1" : "0", ...sandbox?.env });

  // Printed (and written) before the build, so a failed build never loses the one-time secrets.
  printFirstRun(seed, publicUrl, env.dataDir);
  if (!web) {
    say("ready (database only)");
    return;
  }

  if (building) {
    await building.done;
    say("Web app built.");
  }
  const webProc = spawn(process.execPath, [nextBin, "start", "-p", String(env.PORT), "-H", env.HOST], {
    cwd: root,
    // SIGTERM is ours (instrumentation.ts): graceful worker stop, then exit 0
    // the heap limit: see scripts/lib/heap.ts (peak RSS per process)
    env: { ...children, NEXT_MANUAL_SIG_HANDLE: "1", NODE_OPTIONS: withHeapLimit(`${children.NODE_OPTIONS ?? ""} --require ${guard}`.trim()) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  webChild = webProc;
  webProc.on("exit", (code) => {
    if (!shuttingDown) {
      console.error(`[aam] The web server exited (code ${code}).`);
      void shutdown(code ?? 1);
    }
  });
  await waitHealthy(`http://127.0.0.1:${env.PORT}`, webProc);
  say(`Ready: ${publicUrl}  (Ctrl-C to stop)`);
}

/** Reports a start failure in one sentence and stops what was started (set up by main()). */
let fail: (err: unknown) => void = (err) => {
  console.error(`[aam] Could not start: ${oneLine(err)}`);
  process.exit(1);
};
process.on("uncaughtException", (err) => fail(err));
process.on("unhandledRejection", (err) => fail(err));
main().catch((err: unknown) => fail(err));
