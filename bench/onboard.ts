/**
 * `npm run bench` — prints figures, asserts nothing (not a test).
 *  1. single-intent end-to-end latency through the REST use-case path (upsert → durable queue →
 *     worker → pipeline → NOTIFY) against a local source (the HTTP sandbox's GitHub API, no
 *     injected latency): p50/p99 end to end, of the source's own stages, and the overhead;
 *  2. a batch of 10,000 intents (10 × 1,000, as the batch endpoint takes them) against the same
 *     source with 50 ms injected per request: time until all are final, intents/s, peak RSS;
 *  3. the funnel query at 100,000 connections: p50/p99.
 * Uses DATABASE_URL's server (a fresh database, dropped after) or an embedded PostgreSQL.
 * Flags: --single N (default 300), --batch N (default 10000), --concurrency N (default 64).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { fork, spawn, type ChildProcess } from "node:child_process";
import { createDb } from "../server/db/client";
import { applyMigrations } from "../server/db/migrate";
import { seedDatabase } from "../server/db/seed";
import { childEnv, parseEnv } from "../server/env";
import { FinalWaiter } from "../server/jobs/final-waiter";
import { startWorker } from "../server/jobs/worker";
import { createPipelineDeps, createPolicyLoader } from "../server/onboarding/deps";
import { getFunnel } from "../server/onboarding/funnel";
import type { ConnectionIntent } from "../server/onboarding/schemas";
import { upsertSettings } from "../server/onboarding/settings-repository";
import { submitBatch, submitIntent } from "../server/onboarding/submit-intent";
import { startEmbeddedPostgres } from "../scripts/lib/embedded-pg";

const { values } = parseArgs({
  options: { single: { type: "string", default: "300" }, batch: { type: "string", default: "10000" }, concurrency: { type: "string", default: "100" }, workers: { type: "string", default: "1" } },
});
const SINGLE = Number(values.single);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const EXTRA_WORKERS = Number(values.workers);

type SourceProcess = { child: ChildProcess; github: string; token: string; setMode: (mode: string) => Promise<void> };

async function startSource(): Promise<SourceProcess> {
  const child = fork(path.resolve(import.meta.dirname, "sandbox-process.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = await new Promise<{ github: string; token: string }>((resolve) => child.once("message", (m: { github: string; token: string }) => resolve(m)));
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

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const f1 = (x: number) => x.toFixed(1);

function intent(i: number, prefix: string, baseUrl: string): ConnectionIntent {
  return {
    source_type: "github",
    resource_ids: [`${prefix}-${i}`],
    scopes_mode: "safe_readonly",
    credential_locator: "env:SANDBOX_TOKEN",
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: new Date().toISOString() },
    owner: { user: "bench@example.com", confidence: 0.9, why: "bench" },
    config: { base_url: baseUrl, org: "acme" },
  };
}

async function main() {
  const env = parseEnv(process.env);
  let serverUrl = env.DATABASE_URL;
  const embedded = serverUrl ? undefined : await startEmbeddedPostgres({ dataDir: path.resolve(".data-bench"), port: env.EMBEDDED_PG_PORT + 4, database: "postgres" });
  serverUrl ??= embedded!.url;
  const dbName = `aam_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const u = new URL(serverUrl);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const sandbox = await startSource();
  process.env.SANDBOX_TOKEN = sandbox.token; // read by the env: credential locator
  const extra: ChildProcess[] = [];

  try {
    await applyMigrations(url);
    const db = createDb(url, 20);
    const { tenantId } = await seedDatabase(db, { adminEmail: "a@bench.test", execEmail: "e@bench.test", sloTarget: 0.9 });
    await upsertSettings(db, tenantId, "autonomy", { rateLimitPerMinute: 6000 });
    const deps = createPipelineDeps(db, { policy: createPolicyLoader(db) });
    const worker = await startWorker({ databaseUrl: url, concurrency: CONCURRENCY, stuckAfterMs: 600_000, db, deps });
    const waiter = new FinalWaiter(url);
    const submit = { db, enqueue: (ids: readonly string[]) => worker.queue.enqueueOnboarding(ids), waitForFinal: waiter.wait.bind(waiter) };
    const base = sandbox.github;

    console.log(`AAM onboarding benchmark — node ${process.version}, ${(await import("node:os")).cpus().length} cores, PostgreSQL ${embedded ? "embedded" : new URL(serverUrl).host}, worker concurrency ${CONCURRENCY} per process\n`);

    // 1. single intents, sequential
    for (let i = 0; i < 20; i++) await submitIntent(submit, tenantId, intent(i, "warm", base), { budgetMs: 10_000, async: false });
    const e2e: number[] = [];
    const src: number[] = [];
    const over: number[] = [];
    for (let i = 0; i < SINGLE; i++) {
      const t0 = performance.now();
      const out = await submitIntent(submit, tenantId, intent(i, "single", base), { budgetMs: 10_000, async: false });
      const ms = performance.now() - t0;
      if (out.kind !== "final" || out.result.status !== "ACTIVE") throw new Error(`single intent ${i} ended ${JSON.stringify(out)}`);
      const ev = await db.connectionEvent.findMany({ where: { connectionId: out.result.connection_id }, select: { stage: true, durationMs: true } });
      const sourceMs = ev.filter((e) => ["health_check", "discover", "first_sync"].includes(e.stage)).reduce((a, e) => a + (e.durationMs ?? 0), 0);
      e2e.push(ms);
      src.push(sourceMs);
      over.push(ms - sourceMs);
    }
    console.log(`1. Single intent, end to end (${SINGLE} sequential, local source, 5 source requests each):`);
    console.log(`   end to end   p50 ${f1(q(e2e, 50))} ms   p99 ${f1(q(e2e, 99))} ms`);
    console.log(`   source       p50 ${f1(q(src, 50))} ms   p99 ${f1(q(src, 99))} ms`);
    console.log(`   overhead     p50 ${f1(q(over, 50))} ms   p99 ${f1(q(over, 99))} ms   (targets: p50 ≤ 20 ms, p99 ≤ 100 ms)\n`);

    // 2. batch with 50 ms injected latency per source request
    await sandbox.setMode("slow");
    // scale-out as in production: `npm run worker` processes beside the web process's worker
    for (let i = 0; i < EXTRA_WORKERS; i++) {
      extra.push(
        spawn(process.execPath, ["--import", "tsx", "scripts/worker.ts"], {
          env: childEnv({ DATABASE_URL: url, SANDBOX_TOKEN: sandbox.token, EGRESS_ALLOW_PRIVATE: "1", WORKER_CONCURRENCY: String(CONCURRENCY), LOG_LEVEL: "warn" }),
          stdio: ["ignore", "ignore", "inherit"],
        }),
      );
    }
    let peakRss = process.memoryUsage().rss;
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i += 1000) {
      const items = Array.from({ length: Math.min(1000, BATCH - i) }, (_, k) => intent(i + k, "batch", base));
      await submitBatch(submit, tenantId, items);
    }
    const accepted = performance.now() - t0;
    for (;;) {
      if ((await db.connection.count({ where: { tenantId, status: "PENDING" } })) === 0) break;
      if (performance.now() - t0 > 600_000) throw new Error("batch did not finish in 10 minutes");
      await new Promise((r) => setTimeout(r, 250));
    }
    const total = performance.now() - t0;
    clearInterval(rssTimer);
    const statuses = await db.connection.groupBy({ by: ["status"], where: { tenantId, namespace: "autonomy" }, _count: { _all: true } });
    console.log(`2. Batch of ${BATCH.toLocaleString("en")} intents, 50 ms injected per source request, ${1 + EXTRA_WORKERS} worker process(es):`);
    console.log(`   accepted (10 × batch endpoint) in ${f1(accepted / 1000)} s; all final in ${f1(total / 1000)} s (target ≤ 60 s)`);
    console.log(`   throughput ${f1(BATCH / (total / 1000))} intents/s; peak RSS ${Math.round(peakRss / 1024 / 1024)} MB (web/worker process)`);
    console.log(`   statuses: ${statuses.map((s) => `${s.status} ${s._count._all}`).join(", ")}\n`);
    for (const w of extra) w.kill("SIGTERM");
    await worker.stop();
    await waiter.close();

    // 3. funnel at 100,000 connections
    const big = await db.tenant.create({ data: { slug: "bench-funnel", name: "Bench funnel" } });
    await db.$executeRawUnsafe(`
      INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, reachable, scopes_mode,
        credential_locator, risk_level, evidence, owner, first_received_at, activated_at, updated_at)
      SELECT gen_random_uuid(), '${big.id}', 'autonomy', 'github', ARRAY['r' || g], md5(g::text),
        (ARRAY['ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','ACTIVE','HEALING','NETWORK_BLOCKED','AWAITING_CREDENTIALS','UNSUPPORTED','ERROR'])[1 + g % 13]::"ConnectionStatus",
        (g % 13) < 9, 'safe_readonly', 'env:X', 'low', '{}'::jsonb, '{}'::jsonb,
        now() - (g % 30) * interval '1 day', now() - (g % 30) * interval '1 day' + interval '1 hour', now()
      FROM generate_series(1, 100000) g`);
    // what autovacuum does shortly after a bulk load: statistics and the visibility map
    await db.$executeRawUnsafe("VACUUM ANALYZE connections");
    for (let i = 0; i < 5; i++) await getFunnel(db, big.id, "autonomy", { target: 0.9 });
    const fq: number[] = [];
    let last = await getFunnel(db, big.id, "autonomy", { target: 0.9 });
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      last = await getFunnel(db, big.id, "autonomy", { target: 0.9 });
      fq.push(performance.now() - t);
    }
    console.log(`3. Funnel query at ${(last.received ?? 0).toLocaleString("en")} connections (counts + 30 day-one cohorts):`);
    console.log(`   p50 ${f1(q(fq, 50))} ms   p99 ${f1(q(fq, 99))} ms   (target ≤ 50 ms)`);
    await db.$disconnect();
  } finally {
    for (const w of extra) if (w.exitCode === null) w.kill("SIGKILL");
    sandbox.child.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await embedded?.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
