/**
 * The benchmark's web process: AOD's REST API on a plain node:http server that hands each request
 * to the app's own route handlers (app/api/connections/onboard[/batch], app/api/connections/[id])
 * as a web Request — the handlers Next.js runs, minus Next's router — with the onboarding worker
 * in the same process (as instrumentation.ts starts it in `next start`).
 *
 * Instrumentation only (no behaviour change): timestamps per connection at the HTTP edge, the
 * enqueue, graphile-worker's job:start (or the in-process run's start and end), credential
 * resolution and each source stage, and the final-state notification, so the parent can print
 * where a single intent's time goes.
 * IPC: {type:"marks", on} → start/stop keeping marks (off by default: the batch runs without them);
 * {type:"timings", ids} → per-connection marks; {type:"stats"} → CPU and peak RSS;
 * {type:"stop"} → graceful stop.
 */
import http from "node:http";
import pg from "pg";
import type { AddressInfo } from "node:net";
import v8 from "node:v8";
import type { CredentialResolver } from "../server/credentials/types";
import type { SourceAdapter } from "../server/connectors/types";
import { getDb } from "../server/db/client";
import { getEnv, requireDatabaseUrl } from "../server/env";
import { FinalWaiter } from "../server/jobs/final-waiter";
import { createQueue, type Queue } from "../server/jobs/queue";
import { inlineRunner, setInlineRunner } from "../server/jobs/inline";
import { startWorker } from "../server/jobs/worker";
import { createPipelineDeps } from "../server/onboarding/deps";

type Marks = Record<string, number>;
const marks = new Map<string, Marks>();
/** every statement this process sends to PostgreSQL (Prisma's adapter, graphile-worker, the waiter all use pg.Client) */
let statements = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;
/** marks are kept only while the parent asks for them (the per-driver runs): the batch runs without this instrumentation's cost */
let marking = false;
const mark = (id: string | undefined, name: string) => {
  if (!id || !marking) return;
  let m = marks.get(id);
  if (!m) marks.set(id, (m = {}));
  if (m[name] !== undefined) return;
  m[name] = performance.now() + performance.timeOrigin; // epoch ms with sub-ms precision, comparable across processes
  m[`q:${name}`] = statements;
  m[`c:${name}`] = cpuMs();
};
/** this process's CPU time so far (user + system, ms): per-segment CPU does not depend on the machine's load the way wall time does */
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

const env = getEnv();
const url = requireDatabaseUrl();
const db = getDb();

// --- the services the route handlers use (server/http/services.ts), with the enqueue and the waiter timed
class TimedWaiter extends FinalWaiter {
  override async wait(id: string, ms: number, afterListen: () => Promise<boolean>): Promise<boolean> {
    const r = await super.wait(id, ms, afterListen);
    mark(id, "notified");
    return r;
  }
}
const queuePromise: Promise<Queue> = createQueue(url).then((q) => ({
  ...q,
  async enqueueOnboarding(ids, opts) {
    if (ids.length === 1) mark(ids[0], "enqueue_start");
    await q.enqueueOnboarding(ids, opts);
    if (ids.length === 1) mark(ids[0], "enqueue_end");
  },
}));
(globalThis as unknown as { __aamServices: unknown }).__aamServices = { db, queue: queuePromise, waiter: new TimedWaiter(url) };

// --- the worker (server/jobs/embedded.ts), with the source stages timed
function timedAdapter(a: SourceAdapter): SourceAdapter {
  const t = Object.create(a) as SourceAdapter;
  t.healthCheck = async (ctx) => {
    mark(ctx.connectionId, "health_start");
    try {
      return await a.healthCheck(ctx);
    } finally {
      mark(ctx.connectionId, "health_end");
    }
  };
  t.discover = async (ctx) => {
    mark(ctx.connectionId, "discover_start");
    try {
      return await a.discover(ctx);
    } finally {
      mark(ctx.connectionId, "discover_end");
    }
  };
  t.sample = async (ctx, schema) => {
    mark(ctx.connectionId, "sample_start");
    try {
      return await a.sample(ctx, schema);
    } finally {
      mark(ctx.connectionId, "sample_end");
    }
  };
  if (a.openAttempt) {
    // the attempt's one session (connect + health, discovery, sample, close): the same marks
    t.openAttempt = async (ctx) => {
      const id = ctx.connectionId;
      mark(id, "health_start");
      const opened = await a.openAttempt!(ctx);
      if (!opened.ok) {
        mark(id, "health_end");
        return opened;
      }
      const s = opened.value;
      const timedStage = <T>(start: string, end: string, fn: () => Promise<T>) => async () => {
        mark(id, start);
        try {
          return await fn();
        } finally {
          mark(id, end);
        }
      };
      return {
        ok: true as const,
        value: {
          healthCheck: timedStage("health_start", "health_end", () => s.healthCheck()),
          discover: timedStage("discover_start", "discover_end", () => s.discover()),
          sample: (schema) => timedStage("sample_start", "sample_end", () => s.sample(schema))(),
          close: timedStage("close_start", "close_end", () => s.close()),
        },
      };
    };
  }
  return t;
}
const base = createPipelineDeps(db);
const credentials = Object.create(base.credentials) as CredentialResolver;
credentials.resolve = async (locator, opts) => {
  mark(opts.connectionId, "cred_start");
  try {
    return await base.credentials.resolve(locator, opts);
  } finally {
    mark(opts.connectionId, "cred_end");
  }
};
const worker = await startWorker({
  databaseUrl: url,
  concurrency: env.WORKER_CONCURRENCY,
  stuckAfterMs: env.STUCK_AFTER_MS,
  db,
  deps: {
    ...base,
    credentials,
    connectors: (sourceType) => {
      const b = base.connectors(sourceType);
      return b ? { ...b, adapter: timedAdapter(b.adapter) } : b;
    },
  },
});
await worker.ready;
// the in-process fast path of a single intent (server/jobs/inline.ts), timed: admission → run → answer
{
  const inner = inlineRunner()!;
  setInlineRunner({
    ...inner,
    available: () => inner.available(),
    run: async (id, started) => {
      mark(id, "inline_start");
      try {
        return await inner.run(id, started);
      } finally {
        mark(id, "inline_end");
      }
    },
  });
}
worker.runner?.events.on("job:start", ({ job }) => mark((job.payload as { connectionId?: string })?.connectionId, "job_start"));
worker.runner?.events.on("job:complete", ({ job }) => mark((job.payload as { connectionId?: string })?.connectionId, "job_complete"));

// --- the HTTP edge
const onboard = await import("../app/api/connections/onboard/route");
const batch = await import("../app/api/connections/onboard/batch/route");
const connection = await import("../app/api/connections/[id]/route");

const server = http.createServer((req, res) => {
  const t0 = performance.now() + performance.timeOrigin;
  const statementsAtStart = statements;
  const cpuAtStart = cpuMs();
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    void (async () => {
      const path = (req.url ?? "/").split("?")[0]!;
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const request = new Request(`http://${req.headers.host ?? "127.0.0.1"}${req.url}`, { method: req.method, headers, body: req.method === "GET" ? undefined : body });
      let response: Response;
      try {
        if (req.method === "POST" && path === "/api/connections/onboard") response = await onboard.POST(request);
        else if (req.method === "POST" && path === "/api/connections/onboard/batch") response = await batch.POST(request);
        else if (req.method === "GET" && path.startsWith("/api/connections/")) response = await connection.GET(request, { params: Promise.resolve({ id: path.slice("/api/connections/".length) }) });
        else response = new Response("not found", { status: 404 });
      } catch (e) {
        response = new Response(JSON.stringify({ error: { code: "BENCH_HOST", message: e instanceof Error ? e.message : String(e) } }), { status: 500 });
      }
      const text = await response.text();
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => (out[k] = v));
      res.writeHead(response.status, out);
      res.end(text);
      if (marking && path === "/api/connections/onboard") {
        const id = /"connection_id":"([0-9a-f-]{36})"/.exec(text)?.[1];
        if (id) {
          const m = marks.get(id) ?? {};
          marks.set(id, m);
          m.http_in = t0;
          m["q:http_in"] = statementsAtStart;
          m["c:http_in"] = cpuAtStart;
          m.http_out = performance.now() + performance.timeOrigin;
          m["q:http_out"] = statements;
          m["c:http_out"] = cpuMs();
        }
      }
    })();
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as AddressInfo).port;

const startedCpu = process.cpuUsage();
process.send?.({ type: "ready", url: `http://127.0.0.1:${port}` });
process.on("message", (m: { type: string; ids?: string[] }) => {
  if (m.type === "timings") {
    const out: Record<string, Marks> = {};
    for (const id of m.ids ?? []) if (marks.has(id)) out[id] = marks.get(id)!;
    for (const id of m.ids ?? []) marks.delete(id);
    process.send?.({ type: "timings", marks: out });
  } else if (m.type === "marks") {
    marking = Boolean((m as { on?: boolean }).on);
    process.send?.({ type: "marks-set" });
  } else if (m.type === "clear") {
    marks.clear();
    process.send?.({ type: "cleared" });
  } else if (m.type === "stats") {
    const c = process.cpuUsage(startedCpu);
    (globalThis as { gc?: () => void }).gc?.(); // started with --expose-gc: the live heap, not garbage waiting for a collection
    process.send?.({ type: "stats", cpuMs: (c.user + c.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024, rssMb: process.memoryUsage().rss / 1024 / 1024, liveHeapMb: process.memoryUsage().heapUsed / 1024 / 1024 });
  } else if (m.type === "snapshot") {
    // a heap snapshot for the leak hunt (bench --heap-snapshot): open it in Chrome DevTools → Memory
    process.send?.({ type: "snapshot", file: v8.writeHeapSnapshot((m as { file?: string }).file) });
  } else if (m.type === "stop") {
    void (async () => {
      server.close();
      await worker.stop({ graceMs: 1_000 });
      await (await queuePromise).close();
      await db.$disconnect();
      process.send?.({ type: "stopped" });
      process.exit(0);
    })();
  }
});
process.on("disconnect", () => process.exit(0));
