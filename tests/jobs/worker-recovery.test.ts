/**
 * Durable execution: a worker process is SIGKILLed in the middle of an onboarding attempt (its
 * source never answers); another `npm run worker` process takes the dead worker's lease over
 * within seconds (not a no-progress timer) and brings the connection to a final status with its
 * reason — nothing stays PENDING. And SIGTERM: `npm run worker` stops taking work, hands the
 * running attempt back (re-queued, untouched) and exits 0 within 10 s.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { seedDatabase } from "../../server/db/seed";
import { childEnv } from "../../server/env";
import { createQueue } from "../../server/jobs/queue";
import { admitIntent } from "../../server/onboarding/pipeline";
import { ConnectionIntentSchema } from "../../server/onboarding/schemas";
import { addApprovedDestination } from "../../server/onboarding/destination-repository";
import { upsertSettings } from "../../server/onboarding/settings-repository";
import { createScratchDatabase } from "../helpers/db";

const root = path.resolve(import.meta.dirname, "../..");
const children: ChildProcess[] = [];
let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
let db: Db | undefined;
let blackhole: net.Server | undefined;
const sockets: net.Socket[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const s of sockets) s.destroy();
  blackhole?.close();
  await db?.$disconnect();
  await scratch?.drop();
});

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startWorker(url: string, dsn: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/worker.ts"], {
    cwd: root,
    env: childEnv({ DATABASE_URL: url, EGRESS_ALLOW_PRIVATE: "1", STUCK_AFTER_MS: "600000", WORKER_CONCURRENCY: "2", AAM_SECRET_RECOVERY_DSN: dsn, LOG_LEVEL: "warn", NODE_OPTIONS: undefined }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return child;
}

describe("a killed worker's job", () => {
  it("is recovered by another worker and ends in a final status with its reason", { timeout: 120_000 }, async () => {
    scratch = await createScratchDatabase();
    await applyMigrations(scratch.url);
    db = createDb(scratch.url, 3);
    const { tenantId } = await seedDatabase(db, { adminEmail: "a@rec.test", execEmail: "e@rec.test", sloTarget: 0.9 });
    await upsertSettings(db, tenantId, "autonomy", { requestTimeoutMs: 4_000 });

    // a "database" that accepts connections and never says a word
    blackhole = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => blackhole!.listen(0, "127.0.0.1", () => r()));
    const port = (blackhole.address() as net.AddressInfo).port;
    const { dsn, admitted } = await queueSilentDatabaseIntent(db, scratch.url, tenantId, port);
    expect(admitted.needsRun).toBe(true);

    const first = startWorker(scratch.url, dsn);
    let log = "";
    first.stdout!.on("data", (d) => (log += d));
    first.stderr!.on("data", (d) => (log += d));
    await until("the first attempt to start", async () => ((await db!.connection.findUnique({ where: { id: admitted.id } }))?.attempts ?? 0) >= 1 && sockets.length > 0).catch(async (e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(await db!.connection.findUnique({ where: { id: admitted.id } }))}\n${log}`);
    });
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const mid = await db.connection.findUniqueOrThrow({ where: { id: admitted.id } });
    expect(mid.status).toBe("PENDING");

    const second = startWorker(scratch.url, dsn);
    const upAt = Date.now();
    const final = await until("a final status", async () => {
      const row = await db!.connection.findUnique({ where: { id: admitted.id } });
      return row && row.status !== "PENDING" ? row : null;
    });
    // the lease (8 s) expired and was taken over, then one 4 s try: far below the 120 s stall timer
    expect(Date.now() - upAt).toBeLessThan(30_000);
    second.kill("SIGTERM");
    expect(final.status).toBe("NETWORK_BLOCKED");
    expect(final.attempts).toBeGreaterThanOrEqual(2);
    // the killed try counts in the run: a timeout gets two tries, so this one was the last
    expect(final.runAttempts).toBe(1);
    expect(final.statusReason).toMatch(/time|timed out/i);
    expect(final.statusReason).toMatch(/after 2 tries/);
    expect(final.statusReason).not.toContain("secret-pw");
    const events = await db.connectionEvent.findMany({ where: { connectionId: admitted.id }, orderBy: { id: "asc" } });
    // only the last attempt wrote its outcome; the killed one left nothing half-written
    expect(events.map((e) => [e.attempt, e.stage, e.outcome])).toEqual([
      [final.attempts, "credentials", "ok"],
      [final.attempts, "health_check", "fail"],
    ]);
  });
});

describe("SIGTERM of npm run worker", () => {
  it("stops taking work, hands the running attempt back and exits 0 within 10 s", { timeout: 120_000 }, async () => {
    const local = await createScratchDatabase();
    const ldb = createDb(local.url, 3);
    const hole = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => hole.listen(0, "127.0.0.1", () => r()));
    try {
      await applyMigrations(local.url);
      const { tenantId } = await seedDatabase(ldb, { adminEmail: "a@term.test", execEmail: "e@term.test", sloTarget: 0.9 });
      await upsertSettings(ldb, tenantId, "autonomy", { requestTimeoutMs: 30_000 });
      const { dsn, admitted } = await queueSilentDatabaseIntent(ldb, local.url, tenantId, (hole.address() as net.AddressInfo).port);
      const w = startWorker(local.url, dsn);
      await until("the attempt to be running", async () => (await ldb.connection.findUnique({ where: { id: admitted.id } }))?.leaseOwner != null && sockets.length > 0);
      const t0 = Date.now();
      const exited = new Promise<number | null>((r) => w.once("exit", (code) => r(code)));
      w.kill("SIGTERM");
      const code = await exited;
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const row = await ldb.connection.findUniqueOrThrow({ where: { id: admitted.id } });
      expect(row).toMatchObject({ status: "PENDING", leaseOwner: null, runAttempts: 0 });
      // handed back: queued again for the next worker, and nothing half-written in its history
      const jobs = await ldb.$queryRaw<{ n: bigint }[]>`SELECT count(*)::bigint AS n FROM graphile_worker._private_jobs WHERE key = ${`onboard:${admitted.id}`}`;
      expect(Number(jobs[0]!.n)).toBe(1);
      expect(await ldb.connectionEvent.count({ where: { connectionId: admitted.id } })).toBe(0);
      expect(await ldb.workerHeartbeat.count()).toBe(0);
    } finally {
      hole.close();
      await ldb.$disconnect();
      await local.drop();
    }
  });
});

/** Approves the silent "database" at 127.0.0.1:port, admits a postgres intent for it and queues it. */
async function queueSilentDatabaseIntent(d: Db, url: string, tenantId: string, port: number) {
  const dsn = `postgresql://reader:secret-pw@127.0.0.1:${port}/warehouse`;
  await addApprovedDestination(d, tenantId, { kind: "host", pattern: "127.0.0.1", ports: [port], sourceTypes: ["postgres"], note: "the test's silent database" }, { label: "test" });
  const intent = ConnectionIntentSchema.parse({
    source_type: "postgres",
    resource_ids: ["warehouse"],
    credential_locator: "env:AAM_SECRET_RECOVERY_DSN",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "CMDB", ts: "2026-11-20T09:00:00Z" },
    owner: { user: "dba@example.com", confidence: 0.9, why: "cmdb_owner" },
  });
  const admitted = await admitIntent(d, tenantId, intent);
  const queue = await createQueue(url);
  await queue.enqueueOnboarding([admitted.id]);
  await queue.close();
  return { dsn, admitted };
}
