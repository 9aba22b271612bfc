/**
 * The fault suite's scenarios (issue 11, item 13), shared by `npm run chaos` (figures) and the
 * vitest acceptance tests (assertions). Each runs real worker processes (tests/faults/
 * fault-worker.ts: the production worker with the fault source) against a PostgreSQL database
 * and returns its figures:
 *  - killWorker: SIGKILL of a worker with attempts in flight, then a new worker;
 *  - pgRestart: PostgreSQL restarted (stopped and started) while intents run;
 *  - sourceFaults: a source that resets connections, times out, answers 429 storms and 5xx.
 * "Lost" is a connection that never became final or ended ERROR; "duplicated" counts moments two
 * tries of one connection were at the source at once, plus connections with more than one
 * committed first sync.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { childEnv } from "../../server/env";
import type { Health } from "../../server/health";
import { createQueue } from "../../server/jobs/queue";
import { admitIntents } from "../../server/onboarding/pipeline";
import type { ConnectionIntent } from "../../server/onboarding/schemas";
import { LEASE_MS } from "../../server/onboarding/lease";
import { startFaultSource, type FaultMode, type FaultSource, type FaultStats } from "./fault-source";

const root = path.resolve(import.meta.dirname, "../..");

export type Figures = {
  scenario: string;
  intents: number;
  faultsInjected: number;
  faultDetail: string;
  final: number;
  active: number;
  byStatus: Record<string, number>;
  lost: number;
  duplicated: number;
  /** from the fault (kill, restart) to every connection final, ms */
  recoverMs: number;
  /** kill scenario: from the new worker being up to every connection final, ms */
  afterRestartMs?: number;
  inFlightAtFault?: number;
  /** kill scenario: from the new worker being up to the killed worker's attempts all final, ms */
  takeoverMs?: number;
  healthSaid?: string[];
  /** faults all along (no single moment to recover from) */
  continuous?: boolean;
  totalMs: number;
};

export type WorkerProc = { child: ChildProcess; ready: Promise<number>; log: () => string };

export function spawnFaultWorker(databaseUrl: string, sourceUrl: string, opts: { concurrency?: number; healthPort?: number; requestTimeoutMs?: number } = {}): WorkerProc {
  const child = spawn(process.execPath, ["--import", "tsx", "tests/faults/fault-worker.ts"], {
    cwd: root,
    env: childEnv({
      DATABASE_URL: databaseUrl,
      FAULT_SOURCE_URL: sourceUrl,
      WORKER_CONCURRENCY: String(opts.concurrency ?? 20),
      HEALTH_PORT: opts.healthPort ? String(opts.healthPort) : undefined,
      FAULT_REQUEST_TIMEOUT_MS: opts.requestTimeoutMs ? String(opts.requestTimeoutMs) : undefined,
      // with DATABASE_URL set the keys must be given (the fault source needs none of them)
      AUTH_SECRET: process.env.AUTH_SECRET ?? "f".repeat(64),
      ENCRYPTION_KEY: process.env.ENCRYPTION_KEY ?? "e".repeat(64),
      LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? "warn",
      NODE_OPTIONS: undefined,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      log = (log + d).slice(-20_000);
      if (log.includes("[fault-worker] ready")) resolve(Date.now());
    });
    child.stderr!.on("data", (d: Buffer) => void (log = (log + d).slice(-20_000)));
    child.once("exit", (code, sig) => reject(new Error(`fault worker exited (${code ?? sig}) before it was ready:\n${log.slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  return { child, ready, log: () => log };
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function intents(n: number, prefix: string): ConnectionIntent[] {
  return Array.from({ length: n }, (_, i) => ({
    source_type: "github",
    resource_ids: [`${prefix}-${i}`],
    scopes_mode: "safe_readonly",
    credential_locator: "env:FAULT_TOKEN",
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
    owner: { user: "chaos@example.com", confidence: 0.9, why: "fault suite" },
    config: {},
  }));
}

async function tenant(db: Db, label: string): Promise<string> {
  return (await db.tenant.create({ data: { slug: `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, name: label } })).id;
}

/** Admits `n` intents for a new tenant and queues them (as the batch endpoint does, 1,000 at a time). */
async function submit(db: Db, url: string, n: number, label: string): Promise<{ tenantId: string; ids: string[] }> {
  const tenantId = await tenant(db, label);
  const queue = await createQueue(url);
  const ids: string[] = [];
  const all = intents(n, label);
  for (let i = 0; i < all.length; i += 1000) {
    const admitted = await admitIntents(db, tenantId, all.slice(i, i + 1000));
    ids.push(...admitted.map((a) => a.id));
    await queue.enqueueOnboarding(admitted.filter((a) => a.needsRun).map((a) => a.id));
  }
  await queue.close();
  return { tenantId, ids };
}

async function counts(db: Db, tenantId: string) {
  const rows = await db.connection.groupBy({ by: ["status"], where: { tenantId }, _count: { _all: true } });
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, r._count._all])) as Record<string, number>;
  const pending = byStatus.PENDING ?? 0;
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  return { byStatus, pending, total, final: total - pending };
}

async function waitFinal(db: Db, tenantId: string, ms: number, every = 100): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const c = await counts(db, tenantId).catch(() => undefined);
    if (c && c.pending === 0) return Date.now();
    if (Date.now() > end) throw new Error(`not every connection became final within ${ms / 1000} s: ${JSON.stringify(c?.byStatus)}`);
    await sleep(every);
  }
}

/** connections with more than one committed first sync */
async function doubleSyncs(db: Db, tenantId: string): Promise<number> {
  const rows = await db.$queryRaw<{ n: bigint }[]>`
    SELECT count(*)::bigint AS n FROM (
      SELECT e.connection_id FROM connection_events e JOIN connections c ON c.id = e.connection_id
      WHERE c.tenant_id = ${tenantId}::uuid AND e.stage = 'first_sync' AND e.outcome = 'ok'
      GROUP BY e.connection_id HAVING count(*) > 1) x`;
  return Number(rows[0]?.n ?? 0);
}

async function summary(db: Db, tenantId: string, scenario: string, n: number, stats: FaultStats, extraFaults: number, t0: number, faultAt: number, doneAt: number, extra: Partial<Figures> = {}): Promise<Figures> {
  const c = await counts(db, tenantId);
  const injected = stats.reset + stats.hang + stats.r429 + stats.r5xx + extraFaults;
  return {
    scenario,
    intents: n,
    faultsInjected: injected,
    faultDetail: `${stats.reset} resets, ${stats.hang} timeouts, ${stats.r429} × 429, ${stats.r5xx} × 503${extraFaults ? `, ${extraFaults} process/database fault(s)` : ""}`,
    final: c.final,
    active: c.byStatus.ACTIVE ?? 0,
    byStatus: c.byStatus,
    lost: c.pending + (c.byStatus.ERROR ?? 0),
    duplicated: stats.overlaps + (await doubleSyncs(db, tenantId)),
    recoverMs: doneAt - faultAt,
    totalMs: doneAt - t0,
    ...extra,
  };
}

const kill = (p: WorkerProc) => new Promise<void>((r) => (p.child.exitCode !== null || p.child.signalCode ? r() : (p.child.once("exit", () => r()), p.child.kill("SIGKILL"))));

/**
 * SIGKILL of a worker with attempts in flight (each try takes ~1 s at the source), then a new
 * worker: every connection final, within 30 s of the restart, with one committed first sync each.
 */
export async function killWorker(url: string, opts: { intents?: number; concurrency?: number } = {}): Promise<Figures> {
  const n = opts.intents ?? 200;
  const source = await startFaultSource({ delayMs: 300 });
  const db = createDb(url, 4);
  const procs: WorkerProc[] = [];
  try {
    await applyMigrations(url);
    const t0 = Date.now();
    const { tenantId } = await submit(db, url, n, "kill");
    const first = spawnFaultWorker(url, source.url, { concurrency: opts.concurrency ?? 20 });
    procs.push(first);
    await first.ready;
    let inFlight = 0;
    const end = Date.now() + 60_000;
    // wait until the worker is busy and some connections are done: then kill it mid-attempt
    while (Date.now() < end) {
      inFlight = await db.connection.count({ where: { tenantId, status: "PENDING", leaseOwner: { not: null } } });
      const done = (await counts(db, tenantId)).final;
      if (inFlight >= Math.min(10, opts.concurrency ?? 20) && done >= 5) break;
      await sleep(50);
    }
    await kill(first);
    const faultAt = Date.now();
    const orphans = (await db.connection.findMany({ where: { tenantId, status: "PENDING", leaseOwner: { not: null } }, select: { id: true } })).map((r) => r.id);
    const second = spawnFaultWorker(url, source.url, { concurrency: opts.concurrency ?? 20 });
    procs.push(second);
    const upAt = await second.ready;
    let takeoverAt: number | undefined;
    const watch = (async () => {
      while (takeoverAt === undefined && Date.now() < upAt + 120_000) {
        if ((await db.connection.count({ where: { id: { in: orphans }, status: "PENDING" } })) === 0) takeoverAt = Date.now();
        else await sleep(100);
      }
    })();
    const doneAt = await waitFinal(db, tenantId, 120_000);
    await watch;
    return await summary(db, tenantId, "kill -9 of a worker mid-attempt", n, source.stats(), 1, t0, faultAt, doneAt, {
      afterRestartMs: doneAt - upAt,
      inFlightAtFault: orphans.length,
      takeoverMs: (takeoverAt ?? doneAt) - upAt,
    });
  } finally {
    for (const p of procs) await kill(p);
    await db.$disconnect();
    await source.close();
  }
}

/**
 * PostgreSQL restarted while `intents` run: `restart` stops and starts the server (the caller
 * owns it: a throwaway embedded PostgreSQL, never a shared one). Health is polled meanwhile.
 */
export async function pgRestart(url: string, restart: () => Promise<void>, opts: { intents?: number; concurrency?: number; downMs?: number } = {}): Promise<Figures> {
  const n = opts.intents ?? 1000;
  const source = await startFaultSource({ delayMs: 20 });
  const healthPort = await freePort();
  let db = createDb(url, 4);
  let worker: WorkerProc | undefined;
  const said: string[] = [];
  let polling = true;
  const poll = (async () => {
    while (polling) {
      try {
        const res = await fetch(`http://127.0.0.1:${healthPort}/`, { signal: AbortSignal.timeout(3_000) });
        const h = (await res.json()) as Health;
        const line = h.status === "ok" ? "ok" : `degraded: ${h.reason?.replace(/ in \d+ s\.$/, ".")}`; // one line per kind of answer
        if (said[said.length - 1] !== line) said.push(line);
      } catch {
        /* the worker is not listening yet */
      }
      await sleep(100);
    }
  })();
  try {
    await applyMigrations(url);
    const t0 = Date.now();
    const { tenantId } = await submit(db, url, n, "pgrestart");
    worker = spawnFaultWorker(url, source.url, { concurrency: opts.concurrency ?? 20, healthPort });
    await worker.ready;
    // let it get going, then restart PostgreSQL under load
    while ((await counts(db, tenantId)).final < Math.min(100, n / 5)) await sleep(50);
    await db.$disconnect();
    const faultAt = Date.now();
    await restart();
    db = createDb(url, 4);
    const doneAt = await waitFinal(db, tenantId, 150_000, 200).catch((e: Error) => {
      throw new Error(`${e.message}\nworker log:\n${worker!.log().slice(-6000)}`);
    });
    await sleep(2_500); // let health catch up once more
    return await summary(db, tenantId, "PostgreSQL restarted under load", n, source.stats(), 1, t0, faultAt, doneAt, { healthSaid: said });
  } finally {
    polling = false;
    await poll;
    if (worker) await kill(worker);
    await db.$disconnect();
    await source.close();
  }
}

/** A source that resets connections, times out, answers 429 storms and 5xx, under `intents` intents and two workers. */
export async function sourceFaults(url: string, opts: { intents?: number; concurrency?: number } = {}): Promise<Figures> {
  const n = opts.intents ?? 500;
  const calm: Partial<FaultMode> = { delayMs: 20, reset: 0.05, hang: 0.003, r429: 0.03, r5xx: 0.05 };
  const storm: Partial<FaultMode> = { r429: 0.5 };
  const source = await startFaultSource(calm);
  const db = createDb(url, 4);
  const procs: WorkerProc[] = [];
  let storming = true;
  try {
    await applyMigrations(url);
    const t0 = Date.now();
    const { tenantId } = await submit(db, url, n, "srcfaults");
    // 429 storms: 1.5 s on, 1.5 s off
    const storms = (async () => {
      while (storming) {
        source.setMode(storm);
        await sleep(1_500);
        source.setMode({ r429: calm.r429 });
        await sleep(1_500);
      }
    })();
    for (let i = 0; i < 2; i++) procs.push(spawnFaultWorker(url, source.url, { concurrency: opts.concurrency ?? 20 }));
    await Promise.all(procs.map((p) => p.ready));
    const doneAt = await waitFinal(db, tenantId, 150_000);
    storming = false;
    await storms;
    return await summary(db, tenantId, "source resets, times out, 429 storms, 5xx", n, source.stats(), 0, t0, t0, doneAt, { continuous: true });
  } finally {
    storming = false;
    for (const p of procs) await kill(p);
    await db.$disconnect();
    await source.close();
  }
}

export function formatFigures(f: Figures): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    `${f.scenario}`,
    `  intents under load     ${f.intents}`,
    `  faults injected        ${f.faultsInjected} (${f.faultDetail})`,
    ...(f.inFlightAtFault !== undefined ? [`  attempts in flight     ${f.inFlightAtFault} when the worker was killed`] : []),
    ...(f.takeoverMs !== undefined ? [`  taken over             all ${f.inFlightAtFault} final ${s(f.takeoverMs)} after the new worker was up (lease ${LEASE_MS / 1000} s)`] : []),
    `  final                  ${f.final} of ${f.intents} (${Object.entries(f.byStatus).map(([k, v]) => `${k} ${v}`).join(", ")})`,
    `  connections lost       ${f.lost}`,
    `  attempts duplicated    ${f.duplicated}`,
    f.continuous
      ? `  time to all final      ${s(f.recoverMs)} (faults all along)`
      : `  time to recover        ${s(f.recoverMs)} from the fault to all final${f.afterRestartMs !== undefined ? ` (${s(f.afterRestartMs)} after the new worker was up)` : ""}`,
    ...(f.healthSaid ? [`  /api/health said       ${f.healthSaid.join(" → ")}`] : []),
  ].join("\n");
}
