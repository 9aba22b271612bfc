/**
 * Durable execution: a worker process is SIGKILLed in the middle of an onboarding attempt (its
 * source never answers); another `npm run worker` process re-queues the stuck attempt and brings
 * the connection to a final status with its reason — nothing stays PENDING.
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
    env: childEnv({ DATABASE_URL: url, EGRESS_ALLOW_PRIVATE: "1", STUCK_AFTER_MS: "1500", WORKER_CONCURRENCY: "2", AAM_SECRET_RECOVERY_DSN: dsn, LOG_LEVEL: "warn", NODE_OPTIONS: undefined }),
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
    const dsn = `postgresql://reader:secret-pw@127.0.0.1:${port}/warehouse`;

    const intent = ConnectionIntentSchema.parse({
      source_type: "postgres",
      resource_ids: ["warehouse"],
      credential_locator: "env:AAM_SECRET_RECOVERY_DSN",
      risk_level: "low",
      evidence: { status: "Sanctioned", source: "CMDB", ts: "2026-11-20T09:00:00Z" },
      owner: { user: "dba@example.com", confidence: 0.9, why: "cmdb_owner" },
    });
    const admitted = await admitIntent(db, tenantId, intent);
    expect(admitted.needsRun).toBe(true);
    const queue = await createQueue(scratch.url);
    await queue.enqueueOnboarding([admitted.id]);
    await queue.close();

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

    await new Promise((r) => setTimeout(r, 1_600)); // the attempt is now older than STUCK_AFTER_MS
    const second = startWorker(scratch.url, dsn);
    const final = await until("a final status", async () => {
      const row = await db!.connection.findUnique({ where: { id: admitted.id } });
      return row && row.status !== "PENDING" ? row : null;
    });
    second.kill("SIGTERM");
    expect(final.status).toBe("NETWORK_BLOCKED");
    expect(final.attempts).toBeGreaterThanOrEqual(2);
    expect(final.statusReason).toMatch(/time|timed out/i);
    expect(final.statusReason).not.toContain("secret-pw");
    const events = await db.connectionEvent.findMany({ where: { connectionId: admitted.id }, orderBy: { id: "asc" } });
    // only the last attempt wrote its outcome; the killed one left nothing half-written
    expect(events.map((e) => [e.attempt, e.stage, e.outcome])).toEqual([
      [final.attempts, "credentials", "ok"],
      [final.attempts, "health_check", "fail"],
    ]);
  });
});
