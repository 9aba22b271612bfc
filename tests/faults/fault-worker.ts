/**
 * A worker process for the fault suite: the production worker (startWorker, the pipeline, the
 * queue, leases, retries) with the source swapped for the fault source (FAULT_SOURCE_URL) and a
 * fixed credential. Serves this process's /api/health answer (server/health.ts) on HEALTH_PORT,
 * waits for a database that is down at start, and stops gracefully on SIGTERM like `npm run worker`.
 */
import http from "node:http";
import { createDb } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { checkHealth } from "../../server/health";
import { startWorker, type WorkerHandle } from "../../server/jobs/worker";
import { ok } from "../../server/lib/result";
import { createPipelineDeps } from "../../server/onboarding/deps";
import { backoffMs, sleep } from "../../server/onboarding/transient";
import { faultAdapter } from "./fault-adapter";

const url = process.env.DATABASE_URL!;
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 20);
let w: WorkerHandle | undefined;
let stopping = false;
const db = createDb(url, concurrency + 4);

if (process.env.HEALTH_PORT) {
  http
    .createServer((_req, res) => {
      void checkHealth(db).then((h) => res.writeHead(h.database.status === "up" ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(h)));
    })
    .listen(Number(process.env.HEALTH_PORT), "127.0.0.1");
}

const stop = async () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 9_500).unref();
  await w?.stop({ graceMs: 6_000 });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

for (let i = 1; !stopping; i++) {
  try {
    await applyMigrations(url);
    break;
  } catch {
    await sleep(backoffMs(i, { capMs: 4_000 }));
  }
}
const deps = createPipelineDeps(db, {
  connectors: () => ({ adapter: faultAdapter(process.env.FAULT_SOURCE_URL!, Number(process.env.FAULT_REQUEST_TIMEOUT_MS) || undefined) }),
  credentials: { resolve: async () => ok({ token: "fault-token" }) },
});
w = await startWorker({ databaseUrl: url, concurrency, stuckAfterMs: 120_000, db, deps });
await w.ready;
console.log(`[fault-worker] ready pid ${process.pid}`);
