/**
 * `npm run bench` — prints figures, asserts nothing (not a test). Every section prints the
 * machine's load average: on a shared 2-core machine a figure taken under load is noise.
 *  1. Per driver (postgres, mysql/mariadb, s3/s3rver, filesource, REST/GitHub sandbox): the
 *     end-to-end p50/p99 of one intent through AOD's REST API (HTTP, API key, admission, durable
 *     queue, worker, pipeline, answer) beside the FLOOR — the minimal same protocol work with the
 *     raw client (bench/drivers.ts) — and the ratio; runs are interleaved so both see the same
 *     load. Then where the REST path's time goes (per-stage breakdown from bench/api-process.ts).
 *  2. A batch of 10,000 intents (10 × POST /api/connections/onboard/batch) against the HTTP
 *     sandbox with 50 ms injected per source request: time until all are final, intents/s, CPU
 *     ms per onboarding of each process (web+worker, extra workers, the source) and peak RSS.
 *  3. The funnel query at 100,000 connections.
 *  4. With --million: bench/million.ts (1,000,000 connections: funnel, list page, admission).
 * Uses DATABASE_URL's server (a fresh database, dropped after) or an embedded PostgreSQL;
 * MariaDB at 127.0.0.1:3306 (root) for the mysql row (a scratch database, dropped after).
 * Flags: --runs N (per driver, default 100), --batch N (10000), --concurrency N (100 per worker
 * process), --workers N (extra `npm run worker` processes, 1), --only drivers,batch,parts,funnel,
 * --million, --profile (CPU profiles of the web process and of the first `npm run worker` during the
 * batch, top functions printed; the profilers slow the batch),
 * --profile-drivers (the same during the per-driver runs, whose figures the profiler then slows),
 * --profile-parts (section 2b: one more round of each in-process loop under V8's sampler, summarised),
 * --heap MB (V8 old-space limit of the web and worker processes; default the production one, scripts/lib/heap.ts),
 * --heap-snapshot FILE (a heap snapshot of the web+worker process 35 s after the batch is final).
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { generateApiKey } from "../server/auth/api-keys";
import { createDb, prismaPoolSize, QUEUE_POOL_SIZE, rawPoolSize, workerPoolSize, type Db } from "../server/db/client";
import { applyMigrations } from "../server/db/migrate";
import { seedDatabase } from "../server/db/seed";
import { childEnv, parseEnv } from "../server/env";
import { addApprovedDestination } from "../server/onboarding/destination-repository";
import { getFunnel } from "../server/onboarding/funnel";
import { upsertSettings } from "../server/onboarding/settings-repository";
import { startEmbeddedPostgres } from "../scripts/lib/embedded-pg";
import { HEAP_MB } from "../scripts/lib/heap";
import { summarizeCpuProfile } from "./cpuprofile";
import { setupDrivers, type S3Info } from "./drivers";
import { conditions, f1, f2, lpad, now, pad, postgresCpuMs, procStats, q, sleep } from "./lib";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "100" },
    batch: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "100" },
    workers: { type: "string", default: "1" },
    only: { type: "string", default: "drivers,batch,parts,funnel" },
    million: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    "profile-drivers": { type: "boolean", default: false },
    "profile-parts": { type: "boolean", default: false },
    heap: { type: "string", default: "" },
    "heap-snapshot": { type: "string", default: "" },
  },
});
const RUNS = Number(values.runs);
const BATCH = Number(values.batch);
let CONCURRENCY = Number(values.concurrency);
const EXTRA_WORKERS = Number(values.workers);
const ONLY = new Set(values.only!.split(","));
/** --heap MB: V8's old-space limit for the web and worker processes (node --max-old-space-size) */
// the web and worker processes run with the same old-space limit as `npm start` / `npm run worker` (scripts/lib/heap.ts) unless --heap says otherwise
const HEAP_ARGS = [`--max-old-space-size=${values.heap ? Number(values.heap) : HEAP_MB}`];

// ------------------------------------------------------------------ child processes

type SourceProcess = { child: ChildProcess; github: string; token: string; s3: S3Info; setMode: (mode: string) => Promise<void> };

async function startSource(): Promise<SourceProcess> {
  const child = fork(path.resolve(import.meta.dirname, "sandbox-process.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = await new Promise<{ github: string; token: string; s3: S3Info }>((resolve) => child.once("message", (m: { github: string; token: string; s3: S3Info }) => resolve(m)));
  return {
    child,
    ...ready,
    setMode: (mode) =>
      new Promise((resolve) => {
        child.once("message", () => resolve());
        child.send({ type: "mode", vendor: "github", mode });
      }),
  };
}

type Marks = Record<string, number>;
type ApiProcess = { child: ChildProcess; url: string; request<T>(msg: object, reply: string): Promise<T> };

async function startApi(env: NodeJS.ProcessEnv, profileDir?: string): Promise<ApiProcess> {
  const execArgv = ["--import", "tsx", "--expose-gc", ...HEAP_ARGS, ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])];
  const child = fork(path.resolve(import.meta.dirname, "api-process.ts"), [], { execArgv, env, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (m: { url: string }) => resolve(m.url));
    child.once("exit", (code) => reject(new Error(`the bench web process exited (${code}) before it was ready`)));
  });
  return {
    child,
    url,
    request: <T>(msg: object, reply: string) =>
      new Promise<T>((resolve) => {
        const on = (m: { type: string }) => {
          if (m.type !== reply) return;
          child.off("message", on);
          resolve(m as T);
        };
        child.on("message", on);
        child.send(msg);
      }),
  };
}

async function stopApi(api: ApiProcess): Promise<void> {
  if (api.child.exitCode !== null) return;
  const exited = new Promise((r) => api.child.once("exit", r));
  await api.request({ type: "stop" }, "stopped").catch(() => undefined);
  await Promise.race([exited, sleep(15_000)]);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function post(base: string, pathname: string, key: string, body: unknown): Promise<{ status: number; body: Record<string, unknown>; sent: number; done: number }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const sent = now();
    const req = http.request(`${base}${pathname}`, { method: "POST", agent, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": data.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>, sent, done: now() }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

// ------------------------------------------------------------------ 1. per driver

/**
 * The REST path's segments, in order; each is the time between two marks (bench/api-process.ts).
 * "a|b": the first of the marks that exists (the queue path marks enqueue/job:start/notified; the
 * in-process path marks inline_start/inline_end instead).
 */
const SEGMENTS: [label: string, from: string, to: string][] = [
  ["HTTP request in (client → handler)", "client_sent", "http_in"],
  ["API key, body, admission (upsert)", "http_in", "enqueue_start|inline_start"],
  ["enqueue (graphile addJobs)", "enqueue_start", "enqueue_end"],
  ["queue pickup (NOTIFY → job:start)", "enqueue_end", "job_start"],
  ["attempt start (lease, load row)", "job_start|inline_start", "cred_start"],
  ["credentials (env: locator)", "cred_start", "cred_end"],
  ["policy + destinations", "cred_end", "health_start"],
  ["SOURCE health check", "health_start", "health_end"],
  ["between stages", "health_end", "discover_start"],
  ["SOURCE discovery", "discover_start", "discover_end"],
  ["fingerprint", "discover_end", "sample_start"],
  ["SOURCE first sync (sample)", "sample_start", "sample_end"],
  ["preview + masking read", "sample_end", "close_start"],
  ["SOURCE session close", "close_start", "close_end"],
  ["finish (write + NOTIFY → waiter | return)", "close_end|sample_end", "notified|inline_end"],
  ["answer (re-read row | row as written, JSON)", "notified|inline_end", "http_out"],
  ["HTTP response out (→ client)", "http_out", "client_done"],
];
/** the first of "a|b" that was marked */
const pick = (m: Marks, names: string, prefix = ""): number => {
  for (const n of names.split("|")) if (m[`${prefix}${n}`] !== undefined) return m[`${prefix}${n}`]!;
  return NaN;
};
const SOURCE_SEGMENTS = new Set(["SOURCE health check", "SOURCE discovery", "SOURCE first sync (sample)", "SOURCE session close"]);

type DriverResult = { name: string; floorWork: string; e2e: number[]; floor: number[]; source: number[]; segments: Map<string, number[]>; statements: Map<string, number[]>; cpu: Map<string, number[]>; durableCpu: number[]; records: number };

async function benchDrivers(ctx: { db: Db; tenantId: string; key: string; api: ApiProcess; setup: Awaited<ReturnType<typeof setupDrivers>> }): Promise<DriverResult[]> {
  const out: DriverResult[] = [];
  for (const c of ctx.setup.cases) {
    const r: DriverResult = { name: c.name, floorWork: c.floorWork, e2e: [], floor: [], source: [], segments: new Map(SEGMENTS.map(([l]) => [l, []])), statements: new Map(SEGMENTS.map(([l]) => [l, []])), cpu: new Map(SEGMENTS.map(([l]) => [l, []])), durableCpu: [], records: 0 };
    const onceRest = async (record: boolean) => {
      const res = await post(ctx.api.url, "/api/connections/onboard", ctx.key, c.intent());
      const id = String(res.body.connection_id ?? "");
      if (res.status !== 200 || res.body.status !== "ACTIVE") throw new Error(`${c.name}: the REST path answered ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
      const { marks } = await ctx.api.request<{ marks: Record<string, Marks> }>({ type: "timings", ids: [id] }, "timings");
      await ctx.db.connection.delete({ where: { id } }); // the next post is a new connection, not a re-post
      if (!record) return;
      const m = { ...marks[id], client_sent: res.sent, client_done: res.done } as Marks;
      r.e2e.push(res.done - res.sent);
      let src = 0;
      let cpu = 0;
      for (const [label, from, to] of SEGMENTS) {
        // CPU of the web+worker process in the segment (the HTTP client side is not its CPU)
        const c = pick(m, to, "c:") - pick(m, from, "c:");
        if (!SOURCE_SEGMENTS.has(label) && Number.isFinite(c)) cpu += c;
        if (Number.isFinite(c)) r.cpu.get(label)!.push(c);
        const ms = pick(m, to) - pick(m, from);
        if (Number.isFinite(ms)) r.segments.get(label)!.push(ms);
        const n = pick(m, to, "q:") - pick(m, from, "q:");
        if (Number.isFinite(n)) r.statements.get(label)!.push(n);
        if (SOURCE_SEGMENTS.has(label) && Number.isFinite(ms)) src += ms;
      }
      r.source.push(src);
      r.durableCpu.push(cpu);
      r.records = Number(res.body.first_sync_rows ?? 0);
    };
    const onceFloor = async (record: boolean) => {
      const t0 = performance.now();
      const n = await c.floor();
      const ms = performance.now() - t0;
      if (n !== 20) throw new Error(`${c.name}: the floor read ${n} records, not 20`);
      if (record) r.floor.push(ms);
    };
    for (let i = 0; i < 10; i++) {
      await onceRest(false);
      await onceFloor(false);
    }
    for (let i = 0; i < RUNS; i++) {
      // alternate the order so neither side always runs right after the other's GC or I/O
      if (i % 2) {
        await onceRest(true);
        await onceFloor(true);
      } else {
        await onceFloor(true);
        await onceRest(true);
      }
    }
    out.push(r);
  }
  return out;
}

function printDrivers(results: DriverResult[]): void {
  console.log(`1. Per driver: one intent end to end through the REST API vs the floor (${RUNS} interleaved runs each, 20 records; ${conditions()})\n`);
  const head = `   ${pad("driver", 17)}${lpad("REST p50", 10)}${lpad("p99", 9)}${lpad("floor p50", 11)}${lpad("p99", 9)}${lpad("ratio p50", 11)}${lpad("source p50", 12)}${lpad("overhead p50", 14)}${lpad("p99", 9)}   floor work`;
  console.log(head);
  for (const r of results) {
    const over = r.e2e.map((e, i) => e - r.source[i]!);
    console.log(
      `   ${pad(r.name, 17)}${lpad(f1(q(r.e2e, 50)), 10)}${lpad(f1(q(r.e2e, 99)), 9)}${lpad(f1(q(r.floor, 50)), 11)}${lpad(f1(q(r.floor, 99)), 9)}${lpad(`${f2(q(r.e2e, 50) / q(r.floor, 50))}×`, 11)}${lpad(f1(q(r.source, 50)), 12)}${lpad(f1(q(over, 50)), 14)}${lpad(f1(q(over, 99)), 9)}   ${r.floorWork}`,
    );
  }
  console.log(`   (ms; ratio = REST p50 / floor p50, target ≤ 1.5×; source = the driver's health + discovery + sample inside the worker; overhead = REST − source)\n`);
  console.log(`   Where the REST path's time goes: p50 ms per segment (p50 statements the web+worker process sent to PostgreSQL in it):`);
  console.log(`   ${pad("segment", 38)}${results.map((r) => lpad(r.name.split(" ")[0]!, 13)).join("")}`);
  for (const [label] of SEGMENTS) {
    const cell = (r: DriverResult) => {
      const n = q(r.statements.get(label)!, 50);
      return lpad(`${f2(q(r.segments.get(label)!, 50))}${n ? ` (${n})` : "    "}`, 13);
    };
    console.log(`   ${pad(label, 38)}${results.map(cell).join("")}`);
  }
  const durable = (r: DriverResult) => r.e2e.map((e, i) => e - r.source[i]!);
  const total = (r: DriverResult) => [...r.statements.entries()].filter(([l]) => !SOURCE_SEGMENTS.has(l)).reduce((a, [, xs]) => a + (xs.length ? q(xs, 50) : 0), 0);
  console.log(`   ${pad("= durable overhead (REST − source)", 38)}${results.map((r) => lpad(`${f2(q(durable(r), 50))} (${total(r)})`, 13)).join("")}`);
  console.log(`   ${pad("  its CPU in the web+worker process", 38)}${results.map((r) => lpad(f2(q(r.durableCpu, 50)), 13)).join("")}`);
  console.log(`   (CPU: user+system ms of the web+worker process in the non-source segments, p50; unlike wall time it barely moves with the machine's load)\n`);
  console.log(`   Where the web+worker process's CPU goes: p50 CPU ms per segment (the client's side of HTTP is not its CPU):`);
  console.log(`   ${pad("segment", 38)}${results.map((r) => lpad(r.name.split(" ")[0]!, 13)).join("")}`);
  for (const [label] of SEGMENTS) {
    if (results.every((r) => !r.cpu.get(label)!.length)) continue;
    console.log(`   ${pad(label, 38)}${results.map((r) => lpad(r.cpu.get(label)!.length ? f2(q(r.cpu.get(label)!, 50)) : "–", 13)).join("")}`);
  }
  console.log("");
}

// ------------------------------------------------------------------ 2. batch

function ghIntent(i: number, prefix: string, baseUrl: string) {
  return {
    source_type: "github",
    resource_ids: [`${prefix}-${i}`],
    scopes_mode: "safe_readonly",
    credential_locator: "env:AAM_SECRET_BENCH_GITHUB",
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: new Date().toISOString() },
    owner: { user: "bench@example.com", confidence: 0.9, why: "bench" },
    config: { base_url: baseUrl, org: "acme" },
  };
}

async function benchBatch(ctx: { db: Db; tenantId: string; key: string; api: ApiProcess; sandbox: SourceProcess; workerEnv: NodeJS.ProcessEnv; profileDir?: string; postmasterPid?: number }): Promise<void> {
  await ctx.sandbox.setMode("slow");
  const extra: ChildProcess[] = [];
  for (let i = 0; i < EXTRA_WORKERS; i++) {
    // --profile: the first `npm run worker` too (a process that only runs attempts: no admission, no HTTP edge)
    const prof = ctx.profileDir && i === 0 ? ["--cpu-prof", `--cpu-prof-dir=${path.join(ctx.profileDir, "worker")}`] : [];
    extra.push(spawn(process.execPath, ["--import", "tsx", ...HEAP_ARGS, ...prof, "scripts/worker.ts"], { env: ctx.workerEnv, stdio: ["ignore", "ignore", "inherit"] }));
  }
  try {
    await sleep(4_000); // let the workers connect and migrate-check
    const procs: [string, number][] = [
      ["web + worker (bench/api-process.ts)", ctx.api.child.pid!],
      ...extra.map((w, i): [string, number] => [`npm run worker #${i + 1}`, w.pid!]),
      ["source (HTTP sandbox, own process)", ctx.sandbox.child.pid!],
      ["bench client (this process)", process.pid],
    ];
    const before = new Map(procs.map(([, pid]) => [pid, procStats(pid)?.cpuMs ?? 0]));
    const rssBefore = new Map(procs.map(([, pid]) => [pid, procStats(pid)?.rssMb ?? 0]));
    const pgBefore = ctx.postmasterPid ? postgresCpuMs(ctx.postmasterPid) : 0;
    // round trips: transactions of this database (each autocommit statement is one), all processes together
    const xacts = async () => Number((await ctx.db.$queryRaw<{ n: bigint }[]>`SELECT (xact_commit + xact_rollback)::bigint AS n FROM pg_stat_database WHERE datname = current_database()`)[0]!.n);
    const xact0 = await xacts();
    // on a shared server: the CPU of this database's backends (sampled; a backend that exits between samples loses its last slice)
    const backendCpu = new Map<number, { first: number; last: number }>();
    const sampleBackends = async () => {
      const pids = await ctx.db.$queryRaw<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
      for (const { pid } of pids) {
        const cpu = procStats(pid)?.cpuMs;
        if (cpu === undefined) continue;
        const b = backendCpu.get(pid);
        if (b) b.last = cpu;
        else backendCpu.set(pid, { first: cpu, last: cpu });
      }
    };
    await sampleBackends();
    for (const b of backendCpu.values()) b.first = b.last; // backends alive before the batch: only what they do from here on
    const load0 = conditions();
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i += 1000) {
      const items = Array.from({ length: Math.min(1000, BATCH - i) }, (_, k) => ghIntent(i + k, "batch", ctx.sandbox.github));
      const res = await post(ctx.api.url, "/api/connections/onboard/batch", ctx.key, { intents: items });
      if (res.status !== 202) throw new Error(`batch answered ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    const accepted = performance.now() - t0;
    let tick = 0;
    /** attempts holding a lease, sampled every ~0.5 s: how much of the workers' concurrency is in use */
    const inFlight: number[] = [];
    for (;;) {
      if ((await ctx.db.connection.count({ where: { tenantId: ctx.tenantId, status: "PENDING" } })) === 0) break;
      if (performance.now() - t0 > 600_000) throw new Error("batch did not finish in 10 minutes");
      if (!ctx.postmasterPid && tick % 5 === 0) await sampleBackends();
      if (tick++ % 5 === 0) inFlight.push(Number((await ctx.db.$queryRaw<{ n: bigint }[]>`SELECT count(*)::bigint AS n FROM connections WHERE tenant_id = ${ctx.tenantId}::uuid AND status = 'PENDING' AND lease_owner IS NOT NULL`)[0]!.n));
      await sleep(100);
    }
    const total = performance.now() - t0;
    // CPU until every connection is final (not the idle wait below)
    const cpuAtEnd = new Map(procs.map(([, pid]) => [pid, procStats(pid)?.cpuMs ?? 0]));
    if (!ctx.postmasterPid) await sampleBackends();
    const pgAtEnd = ctx.postmasterPid ? postgresCpuMs(ctx.postmasterPid) : [...backendCpu.values()].reduce((a, b) => a + b.last - b.first, 0);
    type Stats = { liveHeapMb: number };
    const liveAtEnd = (await ctx.api.request<Stats>({ type: "stats" }, "stats")).liveHeapMb;
    await sleep(35_000); // past the attempts' 30 s deadline timers (AbortSignal.timeout in the pipeline)
    const liveLater = (await ctx.api.request<Stats>({ type: "stats" }, "stats")).liveHeapMb;
    if (values["heap-snapshot"]) console.log(`   heap snapshot: ${(await ctx.api.request<{ file: string }>({ type: "snapshot", file: path.resolve(values["heap-snapshot"]) }, "snapshot")).file}`);
    const statuses = await ctx.db.connection.groupBy({ by: ["status"], where: { tenantId: ctx.tenantId, namespace: "autonomy" }, _count: { _all: true } });
    console.log(`2. Batch of ${BATCH.toLocaleString("en")} intents (10 × batch endpoint over HTTP), 50 ms injected per source request (5 requests each), ${1 + EXTRA_WORKERS} worker process(es) × concurrency ${CONCURRENCY}${HEAP_ARGS.length ? `, ${HEAP_ARGS[0]}` : ""}`);
    console.log(`   conditions: at start ${load0}; at end ${conditions()}`);
    console.log(`   accepted in ${f1(accepted / 1000)} s; all final in ${f1(total / 1000)} s (target ≤ 20 s); throughput ${f1(BATCH / (total / 1000))} intents/s`);
    console.log(`   statuses: ${statuses.map((s) => `${s.status} ${s._count._all}`).join(", ")}`);
    console.log(`   ${pad("process", 40)}${lpad("CPU s", 8)}${lpad("CPU ms/onboarding", 19)}${lpad("RSS idle MB", 13)}${lpad("peak RSS MB", 13)}`);
    let appCpu = 0;
    for (const [label, pid] of procs) {
      const s = procStats(pid);
      const cpu = cpuAtEnd.get(pid)! - before.get(pid)!;
      if (!label.startsWith("source") && !label.startsWith("bench")) appCpu += cpu;
      console.log(`   ${pad(label, 40)}${lpad(f1(cpu / 1000), 8)}${lpad(f2(cpu / BATCH), 19)}${lpad(String(Math.round(rssBefore.get(pid)!)), 13)}${lpad(String(Math.round(s?.peakRssMb ?? 0)), 13)}`);
    }
    const pgCpu = ctx.postmasterPid ? pgAtEnd - pgBefore : pgAtEnd;
    console.log(`   ${pad(ctx.postmasterPid ? "PostgreSQL (all its processes)" : "PostgreSQL (this database's backends)", 40)}${lpad(f1(pgCpu / 1000), 8)}${lpad(f2(pgCpu / BATCH), 19)}`);
    // where an attempt's time goes: its stages (the source) against the whole attempt (lease taken → final write)
    const times = await ctx.db.$queryRaw<{ attempt: number; health: number; discover: number; sample: number; wait: number }[]>`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.updated_at - c.last_attempt_at) * 1000) AS attempt,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY h.duration_ms) AS health, percentile_cont(0.5) WITHIN GROUP (ORDER BY d.duration_ms) AS discover,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY s.duration_ms) AS sample,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.last_attempt_at - c.first_received_at) * 1000) AS wait
      FROM connections c
      JOIN connection_events h ON h.connection_id = c.id AND h.stage = 'health_check' AND h.outcome = 'ok'
      JOIN connection_events d ON d.connection_id = c.id AND d.stage = 'discover' AND d.outcome = 'ok'
      JOIN connection_events s ON s.connection_id = c.id AND s.stage = 'first_sync' AND s.outcome = 'ok'
      WHERE c.tenant_id = ${ctx.tenantId}::uuid AND c.status = 'ACTIVE'`;
    const t = times[0];
    if (t) console.log(`   per attempt (p50 ms): ${f1(Number(t.attempt))} lease → final write, of which source health ${f1(Number(t.health))}, discovery ${f1(Number(t.discover))}, first sync ${f1(Number(t.sample))}; queued ${f1(Number(t.wait))} before its attempt started`);
    if (inFlight.length) console.log(`   attempts in flight (sampled every 0.5 s): p50 ${q(inFlight, 50)}, max ${Math.max(...inFlight)} of ${(1 + EXTRA_WORKERS) * CONCURRENCY} worker slots`);
    const rounds = (await xacts()) - xact0;
    console.log(`   database round trips: ${f1(rounds / BATCH)} transactions per onboarding (pg_stat_database, every process; includes the batch admission, the queue and ~35 s of idle heartbeats after)`);
    console.log(`   web + worker live heap after a full GC: ${Math.round(liveAtEnd)} MB when the batch is final, ${Math.round(liveLater)} MB 35 s later (retention bounded by the attempts' 30 s deadline timers if it falls)`);
    console.log(`   app total (web + workers): ${f2(appCpu / BATCH)} CPU ms per onboarding → ${f1(1000 / (appCpu / BATCH))} onboardings/s per fully busy core (before PostgreSQL's own CPU)\n`);
  } finally {
    for (const w of extra) if (w.exitCode === null) w.kill("SIGTERM");
    await Promise.all(extra.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once("exit", r)))));
    await ctx.sandbox.setMode("normal");
  }
}

// ------------------------------------------------------------------ 3. funnel at 100k

async function benchFunnel(db: Db): Promise<void> {
  const big = await db.tenant.create({ data: { slug: "bench-funnel", name: "Bench funnel" } });
  await db.$executeRawUnsafe(`
    INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, reachable, scopes_mode,
      credential_locator, risk_level, evidence, owner, first_received_at, activated_at, updated_at)
    SELECT gen_random_uuid(), '${big.id}', 'autonomy', 'github', ARRAY['r' || g], md5(g::text),
      (ARRAY['ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','HEALING','NETWORK_BLOCKED','AWAITING_CREDENTIALS','UNSUPPORTED','ERROR'])[1 + g % 13]::"ConnectionStatus",
      (g % 13) < 9, 'safe_readonly', 'env:X', 'low', '{}'::jsonb, '{}'::jsonb,
      now() - (g % 30) * interval '1 day', now() - (g % 30) * interval '1 day' + interval '1 hour', now()
    FROM generate_series(1, 100000) g`);
  await db.$executeRawUnsafe("VACUUM ANALYZE connections"); // what autovacuum does shortly after a bulk load
  for (let i = 0; i < 5; i++) await getFunnel(db, big.id, "autonomy", { target: 0.9 });
  const fq: number[] = [];
  let last = await getFunnel(db, big.id, "autonomy", { target: 0.9 });
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    last = await getFunnel(db, big.id, "autonomy", { target: 0.9 });
    fq.push(performance.now() - t);
  }
  console.log(`3. Funnel query at ${(last.received ?? 0).toLocaleString("en")} connections (counts + 30 day-one cohorts; ${conditions()}):`);
  console.log(`   p50 ${f1(q(fq, 50))} ms   p99 ${f1(q(fq, 99))} ms   (target ≤ 50 ms)\n`);
}

// ------------------------------------------------------------------ main

async function main() {
  const env = parseEnv(process.env);
  let serverUrl = env.DATABASE_URL;
  const startOwn = () => startEmbeddedPostgres({ dataDir: path.resolve(".data-bench"), port: env.EMBEDDED_PG_PORT + 4, database: "postgres" });
  let embedded = serverUrl ? undefined : await startOwn();
  if (embedded) {
    // our own server: room for every pool of the batch's processes (each sizes its pools from WORKER_CONCURRENCY)
    const c = new pg.Client({ connectionString: embedded.url });
    await c.connect();
    const max = Number((await c.query<{ max_connections: string }>("SHOW max_connections")).rows[0]!.max_connections);
    if (max < 600) await c.query("ALTER SYSTEM SET max_connections = 600");
    await c.end();
    if (max < 600) {
      await embedded.stop();
      embedded = await startOwn();
    }
  }
  serverUrl ??= embedded!.url;
  const tag = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
  const dbName = `aam_bench_${tag}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const u = new URL(serverUrl);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const sandbox = await startSource();
  const profileDir = values.profile ? fs.mkdtempSync(path.join(os.tmpdir(), "aam-bench-prof-")) : undefined;
  let api: ApiProcess | undefined;
  let setup: Awaited<ReturnType<typeof setupDrivers>> | undefined;
  let db: Db | undefined;

  try {
    await applyMigrations(url);
    db = createDb(url, 10);
    const key = generateApiKey().key;
    const { tenantId } = await seedDatabase(db, { adminEmail: "a@bench.test", execEmail: "e@bench.test", sloTarget: 0.9, apiKey: key });
    await upsertSettings(db, tenantId, "autonomy", { rateLimitPerMinute: 60_000 });
    setup = await setupDrivers({ benchDbUrl: url, tag, github: sandbox.github, githubToken: sandbox.token, s3: sandbox.s3 });
    // the trust boundary refuses unapproved hosts and folders: an admin approves the local sources for the bench tenant
    for (const d of setup.destinations) await addApprovedDestination(db, tenantId, d, { label: "bench admin" });

    const secrets = { AUTH_SECRET: process.env.AUTH_SECRET ?? randomBytes(32).toString("hex"), ENCRYPTION_KEY: process.env.ENCRYPTION_KEY ?? randomBytes(32).toString("hex") };
    const appEnv = childEnv({
      ...setup.secrets,
      ...secrets,
      DATABASE_URL: url,
      RUN_WORKER: "1",
      WORKER_CONCURRENCY: String(CONCURRENCY),
      API_RATE_PER_MINUTE: "10000000",
      ONBOARD_TIME_BUDGET_MS: "10000",
      LOG_LEVEL: "warn",
      NODE_ENV: "production",
      SANDBOX: "0",
      SANDBOX_ENDPOINTS: undefined,
      EGRESS_ALLOW_PRIVATE: undefined,
    });
    // each web/worker process opens at most its Prisma pool, graphile-worker's pool, the queue utilities' pool (two in the
    // web process: the routes' and the worker's) and a LISTEN client (server/db/client.ts): on a shared server, keep the
    // batch's processes inside what is left of max_connections
    const web = (c: number) => prismaPoolSize({ runWorker: true, concurrency: c }) + rawPoolSize({ runWorker: true, concurrency: c }) + workerPoolSize(c) + 2 * QUEUE_POOL_SIZE + 1;
    const worker = (c: number) => prismaPoolSize({ runWorker: true, concurrency: c, web: false }) + rawPoolSize({ runWorker: true, concurrency: c, web: false }) + workerPoolSize(c) + QUEUE_POOL_SIZE;
    const room = await admin.query<{ max: string; used: string }>("SELECT current_setting('max_connections') AS max, (SELECT count(*) FROM pg_stat_activity)::text AS used");
    const free = Number(room.rows[0]!.max) - Number(room.rows[0]!.used) - 10;
    let fits = CONCURRENCY;
    while (fits > 1 && web(fits) + EXTRA_WORKERS * worker(fits) > free) fits--;
    if (fits < CONCURRENCY) {
      console.log(`note: ${room.rows[0]!.used} of max_connections ${room.rows[0]!.max} are in use: worker concurrency lowered from ${CONCURRENCY} to ${fits} per process so every pool fits`);
      CONCURRENCY = fits;
      appEnv.WORKER_CONCURRENCY = String(CONCURRENCY);
    }
    console.log(`AAM onboarding benchmark — node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), PostgreSQL ${embedded ? "embedded" : new URL(serverUrl).host}, MariaDB 127.0.0.1:3306, worker concurrency ${CONCURRENCY} per process`);
    console.log(`conditions at start: ${conditions()}\n`);

    if (ONLY.has("drivers")) {
      // (a profiler slows what it measures: the per-driver table is profiled only when asked for on its own)
      const driversProfile = values["profile-drivers"] ? fs.mkdtempSync(path.join(os.tmpdir(), "aam-bench-prof-drivers-")) : undefined;
      api = await startApi(appEnv, driversProfile);
      await api.request({ type: "marks", on: true }, "marks-set");
      const results = await benchDrivers({ db, tenantId, key, api, setup });
      printDrivers(results);
      await stopApi(api);
      api = undefined;
      if (driversProfile) {
        const file = fs.readdirSync(driversProfile).find((f) => f.endsWith(".cpuprofile"));
        if (file) console.log(summarizeCpuProfile(path.join(driversProfile, file), 30, "the per-driver runs (the drivers' own work included)"));
        fs.rmSync(driversProfile, { recursive: true, force: true });
      }
    }
    if (ONLY.has("batch") && BATCH > 0) {
      api = await startApi(appEnv, profileDir);
      // PostgreSQL's CPU is only ours to count on our own server (the embedded one)
      let postmasterPid: number | undefined;
      if (embedded) {
        const backend = (await admin.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
        postmasterPid = procStats(backend)?.ppid;
      }
      await benchBatch({ db, tenantId, key, api, sandbox, workerEnv: appEnv, profileDir, postmasterPid });
      await stopApi(api);
      api = undefined;
      if (profileDir) {
        const file = fs.readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
        if (file) console.log(summarizeCpuProfile(path.join(profileDir, file), 18));
        const workerDir = path.join(profileDir, "worker");
        const wfile = fs.existsSync(workerDir) ? fs.readdirSync(workerDir).find((f) => f.endsWith(".cpuprofile")) : undefined;
        if (wfile) console.log(summarizeCpuProfile(path.join(workerDir, wfile), 18, "the batch", "`npm run worker` #1 (attempts only)"));
      }
    }
    if (ONLY.has("parts")) {
      const { runParts } = await import("./parts");
      await runParts({ db, url, tenantId, github: sandbox.github, token: sandbox.token, sourcePid: sandbox.child.pid!, intent: ghIntent, profile: values["profile-parts"] });
    }
    if (ONLY.has("funnel")) await benchFunnel(db);
    if (values.million) {
      const { runMillion } = await import("./million");
      await runMillion(db, url);
    }
  } finally {
    if (api) api.child.kill("SIGKILL");
    await db?.$disconnect();
    await setup?.close().catch(() => undefined);
    sandbox.child.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await embedded?.stop();
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    agent.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
