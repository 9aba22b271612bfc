/**
 * The single intent's in-process fast path (server/jobs/inline.ts, issue 13 item 3):
 *  - POST /api/connections/onboard with this process's worker running: the admission statement
 *    starts the attempt (lease + fencing number), the attempt runs here at once and the answer
 *    is the row as finishAttempt wrote it — fewer statements than the queue path, no job;
 *  - the guarantee it must keep: a web process SIGKILLed in the middle of such an attempt (no
 *    job was ever queued for it) leaves a lease that another worker takes over within seconds,
 *    and the connection is onboarded exactly once (one first sync, no overlapping tries).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { childEnv } from "../../server/env";
import { startFaultSource, type FaultSource } from "../faults/fault-source";
import { spawnFaultWorker, type WorkerProc } from "../faults/scenarios";
import { startApiHarness, sampleIntent, type ApiHarness } from "../helpers/api-harness";
import { createScratchDatabase, createTestTenant } from "../helpers/db";

const root = path.resolve(import.meta.dirname, "../..");
const children: ChildProcess[] = [];
let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
let db: Db | undefined;
let source: FaultSource | undefined;
let rescuer: WorkerProc | undefined;
let h: ApiHarness | undefined;

afterAll(async () => {
  for (const c of [...children, ...(rescuer ? [rescuer.child] : [])]) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await source?.close();
  await db?.$disconnect();
  await scratch?.drop();
  await h?.close();
});

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the in-process attempt of a single intent", () => {
  it("answers the final state with fewer statements than the queue path and no job", { timeout: 60_000 }, async () => {
    h = await startApiHarness({ ratePerMinute: 100_000 });
    const post = (id: string) => h!.call("post", "/api/connections/onboard", h!.routes.onboard.POST(h!.post("/api/connections/onboard", sampleIntent({ resource_ids: [id] }))));
    expect((await post("T0INLINEWARM")).status).toBe(200); // the API key is cached from here on

    // the statements this request sends (its async context), not the worker's heartbeat or reapers meanwhile
    const request = new AsyncLocalStorage<true>();
    let statements = 0;
    const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (request.getStore()) statements++;
      return query.apply(this, args);
    } as typeof pg.Client.prototype.query;
    let res: Awaited<ReturnType<typeof post>>;
    try {
      res = await request.run(true, () => post("T0INLINE"));
    } finally {
      pg.Client.prototype.query = query as typeof pg.Client.prototype.query;
    }
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("ACTIVE");
    // admission (which starts the attempt), the tenant's preview masking, the final write; the queue path sends 7+
    expect(statements).toBeLessThanOrEqual(3);
    expect(statements).toBeGreaterThanOrEqual(2); // the counter sees the request: at least the admission and the final write
    const row = await h.db.connection.findUniqueOrThrow({ where: { id: res.body.connection_id as string } });
    expect(row.attempts).toBe(1);
    expect(row.leaseOwner).toBeNull();
    const jobs = await h.db.$queryRaw<{ n: bigint }[]>`SELECT count(*)::bigint AS n FROM graphile_worker._private_jobs WHERE key = ${`onboard:${row.id}`}`;
    expect(Number(jobs[0]!.n)).toBe(0);
    const events = await h.db.connectionEvent.findMany({ where: { connectionId: row.id, stage: "first_sync", outcome: "ok" } });
    expect(events).toHaveLength(1);
  });

  it("survives kill -9 of the web process mid-attempt: another worker takes the lease over and onboards it once", { timeout: 120_000 }, async () => {
    scratch = await createScratchDatabase();
    await applyMigrations(scratch.url);
    db = createDb(scratch.url, 3);
    const tenantId = await createTestTenant(db, "inline");

    const child = spawn(process.execPath, ["--import", "tsx", "tests/jobs/inline-child.ts", scratch.url, tenantId], {
      cwd: root,
      env: childEnv({ DATABASE_URL: scratch.url, LOG_LEVEL: "warn", NODE_OPTIONS: undefined, AUTH_SECRET: "f".repeat(64), ENCRYPTION_KEY: "e".repeat(64) }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let log = "";
    child.stderr!.on("data", (d) => (log += d));
    const id = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        log += d;
        const m = /running ([0-9a-f-]{36})/.exec(log);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`the web process exited (${code}) before its attempt ran:\n${log}`)));
    });
    const during = await db.connection.findUniqueOrThrow({ where: { id } });
    expect(during.status).toBe("PENDING");
    expect(during.attempts).toBe(1);
    expect(during.leaseOwner).not.toBeNull();
    // nothing was queued: the lease alone carries the attempt
    const jobs = await db.$queryRaw<{ n: bigint }[]>`SELECT count(*)::bigint AS n FROM graphile_worker._private_jobs`;
    expect(Number(jobs[0]!.n)).toBe(0);

    child.kill("SIGKILL");
    await new Promise((r) => (child.exitCode !== null || child.signalCode ? r(null) : child.once("exit", r)));

    source = await startFaultSource();
    rescuer = spawnFaultWorker(scratch.url, source.url, { concurrency: 2 });
    await rescuer.ready;
    const final = await until("the connection to become final", async () => {
      const r = await db!.connection.findUnique({ where: { id } });
      return r && r.status !== "PENDING" ? r : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n${rescuer!.log()}`);
    });
    expect(final.status).toBe("ACTIVE");
    expect(final.attempts).toBe(2); // the killed try, then the rescuer's
    expect(final.leaseOwner).toBeNull();
    const syncs = await db.connectionEvent.count({ where: { connectionId: id, stage: "first_sync", outcome: "ok" } });
    expect(syncs).toBe(1);
    expect(source.stats().overlaps).toBe(0);
  });
});
