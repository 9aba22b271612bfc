/**
 * The embedded default end to end: `scripts/start.ts --no-web` with no DATABASE_URL starts its own
 * PostgreSQL in DATA_DIR. Data survives a restart, a SIGKILLed launcher, and a SIGKILL of the
 * launcher together with the process that owns PostgreSQL (the orphaned postmaster is stopped
 * cleanly, with a message, on the next start). Start failures (a port taken, an unwritable DATA_DIR,
 * a database that refuses) are one sentence with the fix and a non-zero exit, never a stack trace.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { childEnv } from "../server/env";
import { removeCluster } from "../scripts/lib/pg-location";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "aam-launcher-"));
// below the ephemeral range (32768–60999): no outgoing socket of a parallel test can hold it
const port = 21_000 + Math.floor(Math.random() * 3000);
const running: ChildProcess[] = [];

function start(): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts", "--no-web"], {
    cwd: root,
    env: childEnv({ DATABASE_URL: undefined, SANDBOX: "0", DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port), SEED_ADMIN_PASSWORD: "launcher-admin-pw", NODE_OPTIONS: undefined }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`launcher not ready in 90 s:\n${out}`)), 90_000);
    const check = () => {
      if (out.includes("ready (database only)")) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    };
    child.stdout!.on("data", check);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`launcher exited with ${code}:\n${out}`));
    });
  });
}

function dbUrl(): string {
  const c = JSON.parse(fs.readFileSync(path.join(dataDir, "pg-credentials.json"), "utf8"));
  return `postgresql://${c.user}:${encodeURIComponent(c.password)}@127.0.0.1:${port}/aam`;
}

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: dbUrl() });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}
const postmasterPid = () => Number(fs.readFileSync(path.join(dataDir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);

afterAll(async () => {
  for (const c of running) if (c.exitCode === null) c.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 1500));
  removeCluster(dataDir); // root: the cluster lives under /var/lib/aam-embedded-pg
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("embedded default launcher", () => {
  it("first start creates and seeds; data survives restart, SIGKILL and an orphaned postmaster", { timeout: 240_000 }, async () => {
    const first = await start();
    expect(first.output()).toContain("Creating the embedded PostgreSQL cluster");
    expect(first.output()).toContain("AOD API key:");
    expect(first.output()).toContain("launcher-admin-pw");
    await query("INSERT INTO tenants (id, slug, name) VALUES (gen_random_uuid(), 'survivor', 'Survivor')");

    // clean stop (SIGTERM) and restart: no second seed, data kept
    first.child.kill("SIGTERM");
    await new Promise((r) => first.child.once("exit", r));
    expect(first.child.exitCode).toBe(0);
    const second = await start();
    expect(second.output()).not.toContain("AOD API key:");
    expect(await query("SELECT slug FROM tenants WHERE slug = 'survivor'")).toHaveLength(1);

    // SIGKILL of the launcher: PostgreSQL's owner notices and stops it; the next start works
    const pm1 = postmasterPid();
    second.child.kill("SIGKILL");
    await until(() => !alive(pm1));
    const third = await start();
    expect(await query("SELECT slug FROM tenants WHERE slug = 'survivor'")).toHaveLength(1);

    // SIGKILL of the launcher and of the process owning PostgreSQL: the postmaster is orphaned
    const pm2 = postmasterPid();
    const owner = fs
      .readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .map(Number)
      .find((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("pg-server.ts") && fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[3] === String(third.child.pid);
        } catch {
          return false;
        }
      });
    expect(owner).toBeDefined();
    process.kill(owner!, "SIGKILL");
    third.child.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(pm2)).toBe(true);
    const fourth = await start();
    expect(fourth.output()).toMatch(/still running from an earlier run/);
    expect(alive(pm2)).toBe(false);
    expect(await query("SELECT slug FROM tenants WHERE slug = 'survivor'")).toHaveLength(1);
    fourth.child.kill("SIGTERM");
    await new Promise((r) => fourth.child.once("exit", r));
  });
});

/** Runs the launcher to its end; returns the exit code and its output. */
function startFailing(extra: Record<string, string | undefined>, argv = ["--no-web"]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts", ...argv], {
    cwd: root,
    env: childEnv({ DATABASE_URL: undefined, SANDBOX: "0", NODE_OPTIONS: undefined, ...extra }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** The failure, as printed: exactly one line on stderr (besides the Node 20 end-of-life warning), no stack. */
function oneSentence(r: { code: number | null; stdout: string; stderr: string }): string {
  expect(r.code).not.toBe(0);
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);
  const lines = r.stderr.split("\n").filter((l) => l.trim() && !l.startsWith("[aam] WARNING: Node.js"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^\[aam\] Could not start: [^\n]+\.$/);
  return lines[0]!;
}

function listen(host = "127.0.0.1"): Promise<net.Server & { port: number }> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, host, () => resolve(Object.assign(srv, { port: (srv.address() as net.AddressInfo).port })));
  });
}

describe("start failures are one sentence with the fix", () => {
  it("the embedded PostgreSQL's port is taken", { timeout: 60_000 }, async () => {
    const busy = await listen();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aam-busy-"));
    try {
      const line = oneSentence(await startFailing({ DATA_DIR: dir, EMBEDDED_PG_PORT: String(busy.port) }));
      expect(line).toContain(`Port ${busy.port} (EMBEDDED_PG_PORT) is already in use`);
      expect(line).toContain("set EMBEDDED_PG_PORT to a free port");
    } finally {
      busy.close();
      removeCluster(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the web port is taken", { timeout: 60_000 }, async () => {
    const busy = await listen("0.0.0.0");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aam-busy-"));
    try {
      const line = oneSentence(await startFailing({ DATA_DIR: dir, PORT: String(busy.port), EMBEDDED_PG_PORT: String(port + 1) }, []));
      expect(line).toContain(`Port ${busy.port} (PORT) is already in use`);
      expect(fs.existsSync(path.join(dir, "pg"))).toBe(false); // refused before anything started
    } finally {
      busy.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("DATA_DIR cannot be written", { timeout: 60_000 }, async () => {
    // below a regular file: not creatable for anyone, root included
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aam-ro-")), "a-file");
    fs.writeFileSync(file, "");
    try {
      const line = oneSentence(await startFailing({ DATA_DIR: path.join(file, "data"), EMBEDDED_PG_PORT: String(port + 1) }));
      expect(line).toContain(`The data folder ${path.join(file, "data")} cannot be created or written`);
      expect(line).toContain("set DATA_DIR to a folder you can write");
      if (process.getuid?.() !== 0) {
        // a folder without write permission (root may write anywhere, so only for other users)
        const ro = fs.mkdtempSync(path.join(os.tmpdir(), "aam-ro-"));
        fs.chmodSync(ro, 0o500);
        const line2 = oneSentence(await startFailing({ DATA_DIR: ro, EMBEDDED_PG_PORT: String(port + 1) }));
        expect(line2).toContain("cannot be created or written (EACCES)");
        fs.rmSync(ro, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it("the database refuses", { timeout: 60_000 }, async () => {
    const closed = await listen();
    closed.close(); // a port where nothing listens
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aam-refused-"));
    try {
      const line = oneSentence(await startFailing({ DATA_DIR: dir, DATABASE_URL: `postgresql://u:secret-pw@127.0.0.1:${closed.port}/aam` }));
      expect(line).toContain(`PostgreSQL at 127.0.0.1:${closed.port}/aam refused the connection`);
      expect(line).toContain("check DATABASE_URL");
      expect(line).not.toContain("secret-pw");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
