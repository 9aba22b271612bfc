/**
 * Acceptance (issue 11): PostgreSQL is restarted while 1,000 intents run. None ends ERROR, all
 * end final after it is back, and the worker's /api/health answer said "degraded" (with the
 * reason) meanwhile. The PostgreSQL restarted here is a throwaway embedded one on a free port,
 * owned by a child process (scripts/pg-server.ts) — never the machine's shared server.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPg } from "../../scripts/lib/embedded-pg";
import { createDb } from "../../server/db/client";
import type { Health } from "../../server/health";
import { createQueue } from "../../server/jobs/queue";
import { admitIntents } from "../../server/onboarding/pipeline";
import { freePort, pgRestart, sleep, spawnFaultWorker } from "./scenarios";
import { startFaultSource } from "./fault-source";

const dataDir = path.resolve(import.meta.dirname, "../..", `.data-faults-${process.pid}`);
let pg: EmbeddedPg | undefined;
afterAll(async () => {
  await pg?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("PostgreSQL restarted under load", () => {
  it("1,000 intents: none ends ERROR, all final after it returns, health said degraded meanwhile", { timeout: 300_000 }, async () => {
    const port = await freePort();
    pg = await startEmbeddedPostgres({ dataDir, port, database: "aam_faults" });
    const url = pg.url;
    const f = await pgRestart(url, async () => {
      await pg!.stop();
      await sleep(3_000); // down for a few seconds
      pg = await startEmbeddedPostgres({ dataDir, port, database: "aam_faults" });
      expect(pg.url).toBe(url);
    }, { intents: 1000, concurrency: 20 });
    expect(f.final).toBe(1000);
    expect(f.byStatus.ERROR ?? 0).toBe(0);
    expect(f.active).toBe(1000);
    expect(f.lost).toBe(0);
    expect(f.duplicated).toBe(0);
    expect(f.healthSaid!.some((l) => /^degraded: .*database/i.test(l))).toBe(true);
    expect(f.healthSaid![f.healthSaid!.length - 1]).toBe("ok");
  });

  it("a worker started while PostgreSQL is down says degraded, waits, and runs once it is up", { timeout: 180_000 }, async () => {
    const url = pg!.url;
    const port = Number(new URL(url).port);
    await pg!.stop();
    const source = await startFaultSource({ delayMs: 10 });
    const healthPort = await freePort();
    // this source injects no hangs: a generous request timeout, so a CI host that stalls for a
    // second does not turn a slow answer into NETWORK_BLOCKED (CI saw 49 of 50 ACTIVE once)
    const w = spawnFaultWorker(url, source.url, { concurrency: 10, healthPort, requestTimeoutMs: 15_000 });
    try {
      let said: Health | undefined;
      for (let i = 0; i < 100 && !said; i++) {
        await sleep(200);
        said = await fetch(`http://127.0.0.1:${healthPort}/`).then((r) => r.json() as Promise<Health>, () => undefined);
      }
      expect(said).toMatchObject({ status: "degraded", database: { status: "down" }, reason: expect.stringMatching(/database.*resumes by itself/) });
      await sleep(1_500);
      pg = await startEmbeddedPostgres({ dataDir, port, database: "aam_faults" });
      await w.ready;
      const db = createDb(url, 2);
      try {
        const t = (await db.tenant.create({ data: { slug: `boot-${Date.now()}`, name: "Boot" } })).id;
        const admitted = await admitIntents(db, t, Array.from({ length: 50 }, (_, i) => ({
          source_type: "github", resource_ids: [`boot-${i}`], scopes_mode: "safe_readonly", credential_locator: "env:X", namespace: "autonomy", risk_level: "low",
          evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" }, owner: { user: "o@example.com", confidence: 0.9, why: "t" }, config: {},
        })));
        const q = await createQueue(url);
        await q.enqueueOnboarding(admitted.map((a) => a.id));
        await q.close();
        // every one final (none PENDING), then every one ACTIVE — with what the others say when not
        for (let i = 0; i < 450 && (await db.connection.count({ where: { tenantId: t, status: "PENDING" } })) > 0; i++) await sleep(200);
        const notActive = await db.connection.findMany({ where: { tenantId: t, status: { not: "ACTIVE" } }, select: { status: true, statusReason: true, runAttempts: true, leaseOwner: true, leaseExpiresAt: true, lastAttemptAt: true, events: { select: { attempt: true, stage: true, outcome: true, message: true, at: true } } } });
        expect(notActive, `not ACTIVE:\n${JSON.stringify(notActive, null, 1)}\nworker log:\n${w.log().slice(-4000)}`).toEqual([]);
        const h = (await fetch(`http://127.0.0.1:${healthPort}/`).then((r) => r.json())) as Health;
        expect(h).toMatchObject({ status: "ok", database: { status: "up" }, worker: { status: "running" } });
      } finally {
        await db.$disconnect();
      }
    } finally {
      w.child.kill("SIGKILL");
      await source.close();
    }
  });
});
