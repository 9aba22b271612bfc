/**
 * `npm run bench -- --only parts` (also in the default run): the CPU of one attempt's parts,
 * measured apart in this process, to set beside the batch's per-onboarding figure. Three kinds
 * of round, alternating, each 2,000 GitHub intents of a fresh tenant run 100 at a time:
 *  - "pipeline + REST driver": runAttemptDetailed as a worker runs it (lease, credentials,
 *    policy, destinations, the driver's health/discovery/sample over Safe Mode HTTP to the
 *    sandbox in its own process, answering at once, fingerprint, preview, the fenced final write);
 *  - "pipeline, answers from memory": the same, with the driver's answers (taken once from the
 *    real driver) handed back from memory: what the attempt costs around the driver;
 *  - "… through the queue": those attempts enqueued and run by a worker (graphile-worker) in
 *    this process: what the durable queue adds.
 * Each round's admission (the intents through the schema, upserted 1,000 per statement, as the
 * batch endpoint does after reading its body) is timed too. CPU is this process's user+system
 * time per attempt (PostgreSQL's and the source's are not in it). Prints figures, asserts nothing.
 */
import fs from "node:fs";
import inspector from "node:inspector";
import os from "node:os";
import path from "node:path";
import type { ConnectorResult, DiscoveredSchema, HealthInfo, SampleRecord, SourceAdapter } from "../server/connectors/types";
import { bindConnector } from "../server/connectors/binding";
import type { Db } from "../server/db/client";
import { createQueue } from "../server/jobs/queue";
import { startWorker } from "../server/jobs/worker";
import { ok } from "../server/lib/result";
import { createPipelineDeps } from "../server/onboarding/deps";
import { admitIntents, runAttemptDetailed, type PipelineDeps } from "../server/onboarding/pipeline";
import { ConnectionIntentSchema } from "../server/onboarding/schemas";
import { summarizeCpuProfile } from "./cpuprofile";
import { conditions, f1, f2, lpad, pad, procStats, q, sleep } from "./lib";

const PER_ROUND = 3_000;
const CONCURRENCY = 100;
const ROUNDS = 4;

type Kind = "driver" | "memory" | "queue";
const LABEL: Record<Kind, string> = {
  driver: "pipeline + REST driver (in a loop)",
  memory: "pipeline, driver's answers from memory",
  queue: "the same through the queue (a worker)",
};

/**
 * Hands back the real adapter's first answer to every later call: the attempt without the
 * driver's work. Discovery's named-resource checks are the one part that differs per intent (each
 * names its own repository): they are re-labelled with this attempt's resources, found as the
 * first one was.
 */
function fromMemory(real: SourceAdapter): SourceAdapter {
  let h: ConnectorResult<HealthInfo> | undefined;
  let d: ConnectorResult<DiscoveredSchema> | undefined;
  let s: ConnectorResult<SampleRecord[]> | undefined;
  return {
    healthCheck: async (ctx) => (h ??= await real.healthCheck(ctx)),
    discover: async (ctx) => {
      d ??= await real.discover(ctx);
      if (!d.ok || !d.value.resources) return d;
      const [first] = d.value.resources;
      return ok({ ...d.value, resources: first ? ctx.resourceIds.map((id) => ({ ...first, id })) : [] });
    },
    sample: async (ctx, schema) => (s ??= await real.sample(ctx, schema)),
  };
}

/** CPU-profiles `fn` in this process with V8's sampler (the inspector's Profiler domain) and writes the .cpuprofile to `file`. */
async function profiled(file: string, fn: () => Promise<void>): Promise<void> {
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r))));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  await post("Profiler.start");
  try {
    await fn();
  } finally {
    const { profile } = (await post("Profiler.stop")) as { profile: unknown };
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

export async function runParts(ctx: { db: Db; url: string; tenantId: string; github: string; token: string; sourcePid: number; intent: (i: number, prefix: string, baseUrl: string) => unknown; profile?: boolean }): Promise<{ admission: number; driver: number; memory: number; queue: number }> {
  const credentials = { resolve: async () => ok({ token: ctx.token }) };
  const real = createPipelineDeps(ctx.db, { credentials, log: undefined });
  const memo = new Map<string, SourceAdapter>();
  const memory: PipelineDeps = {
    ...real,
    connectors: (t) => {
      const b = bindConnector(t);
      if (!b) return b;
      if (!memo.has(t)) memo.set(t, fromMemory(b.adapter));
      return { ...b, adapter: memo.get(t)! };
    },
  };
  const queue = await createQueue(ctx.url);
  const worker = await startWorker({ databaseUrl: ctx.url, concurrency: CONCURRENCY, stuckAfterMs: 120_000, db: ctx.db, deps: memory });
  await worker.ready;
  const cpu: Record<Kind, number[]> = { driver: [], memory: [], queue: [] };
  const rate: Record<Kind, number[]> = { driver: [], memory: [], queue: [] };
  const admission: number[] = [];
  let sourceCpu = 0;
  let notActive = 0;
  const admit = async (kind: Kind, round: number | string): Promise<string[]> => {
    const prefix = `parts-${kind}-${round}-${Date.now().toString(36)}`;
    const ids: string[] = [];
    for (let i = 0; i < PER_ROUND; i += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, PER_ROUND - i) }, (_, j) => ConnectionIntentSchema.parse(ctx.intent(i + j, prefix, ctx.github)));
      ids.push(...(await admitIntents(ctx.db, ctx.tenantId, batch)).map((a) => a.id));
    }
    return ids;
  };
  const inLoop = async (deps: PipelineDeps, ids: string[]): Promise<void> => {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < ids.length) await runAttemptDetailed(deps, ids[next++]!);
    }));
  };
  const profiles: string[] = [];
  try {
    for (let round = 0; round < ROUNDS + 1; round++) {
      for (const kind of ["driver", "memory", "queue"] as Kind[]) {
        const a0 = process.cpuUsage();
        const ids = await admit(kind, round);
        const a = process.cpuUsage(a0);
        if (round > 0) admission.push((a.user + a.system) / 1000 / PER_ROUND);
        const src0 = procStats(ctx.sourcePid)?.cpuMs ?? 0;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        if (kind === "queue") {
          await queue.enqueueOnboarding(ids);
          // (the rounds before are final: the tenant's PENDING rows are this round's — a cheap poll, so the poll's CPU stays out of the figure)
          const until = Date.now() + 180_000; // a row left PENDING by an earlier section must not hang the bench
          while (Date.now() < until && (await ctx.db.connection.count({ where: { tenantId: ctx.tenantId, status: "PENDING" } })) > 0) await sleep(50);
        } else await inLoop(kind === "driver" ? real : memory, ids);
        const ms = performance.now() - t0;
        const c = process.cpuUsage(c0);
        notActive += await ctx.db.connection.count({ where: { id: { in: ids }, status: { not: "ACTIVE" } } });
        if (round === 0) continue; // the first round warms the JIT and the caches
        cpu[kind].push((c.user + c.system) / 1000 / PER_ROUND);
        rate[kind].push((PER_ROUND / ms) * 1000);
        if (kind === "driver") sourceCpu += ((procStats(ctx.sourcePid)?.cpuMs ?? 0) - src0) / PER_ROUND / ROUNDS;
      }
    }
    // --profile-parts: one more round of each loop under the sampler (out of the figures: it slows what it samples)
    if (ctx.profile) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aam-bench-parts-"));
      for (const kind of ["driver", "memory"] as const) {
        const ids = await admit(kind, "profiled");
        const file = path.join(dir, `${kind}.cpuprofile`);
        await profiled(file, () => inLoop(kind === "driver" ? real : memory, ids));
        profiles.push(summarizeCpuProfile(file, 30, `a round of ${PER_ROUND.toLocaleString("en")} attempts, ${LABEL[kind]}`, "the bench process"));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await worker.stop({ graceMs: 1_000 });
    await queue.close();
  }
  const m = (k: Kind) => q(cpu[k], 50);
  console.log(`2b. One attempt's parts apart, in this process (${ROUNDS} rounds of ${PER_ROUND.toLocaleString("en")} GitHub intents each, ${CONCURRENCY} at a time, the sandbox answering at once; ${conditions()}):`);
  console.log(`   ${pad("round", 44)}${lpad("CPU ms/attempt p50", 20)}${lpad("(min–max)", 14)}${lpad("attempts/s", 12)}`);
  console.log(`   ${pad("admission (schema, upsert 1,000 per statement)", 44)}${lpad(f2(q(admission, 50)), 20)}${lpad(`${f2(Math.min(...admission))}–${f2(Math.max(...admission))}`, 14)}`);
  for (const k of ["driver", "memory", "queue"] as Kind[]) console.log(`   ${pad(LABEL[k], 44)}${lpad(f2(m(k)), 20)}${lpad(`${f2(Math.min(...cpu[k]))}–${f2(Math.max(...cpu[k]))}`, 14)}${lpad(f1(q(rate[k], 50)), 12)}`);
  console.log(`   → the driver's own work ${f2(m("driver") - m("memory"))} CPU ms, the pipeline around it ${f2(m("memory"))}, the queue ${f2(m("queue") - m("memory"))} (differences within the rounds' min–max are noise); the source's process ${f2(sourceCpu)} CPU ms per attempt${notActive ? `; ${notActive} attempt(s) did not end ACTIVE` : ""}`);
  console.log(`   → admission + pipeline + driver + queue, measured apart: ${f2(q(admission, 50) + m("driver") + Math.max(0, m("queue") - m("memory")))} CPU ms per onboarding in the app\n`);
  for (const p of profiles) console.log(p);
  return { admission: q(admission, 50), driver: m("driver"), memory: m("memory"), queue: m("queue") };
}
