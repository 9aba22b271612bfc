/**
 * `npm run chaos`: the fault suite (issue 11, item 13). On a throwaway embedded PostgreSQL of its
 * own (never a shared server — it is restarted on purpose), with real worker processes and a
 * source that misbehaves on purpose (tests/faults/):
 *  1. kill -9 of a worker with attempts in flight, then a new worker;
 *  2. PostgreSQL restarted (down ~3 s) while 1,000 intents run;
 *  3. a source that resets connections, times out, answers 429 storms and 5xx, two workers.
 * Prints intents under load, faults injected, connections lost, attempts duplicated and time to
 * recover for each; exits 1 when a connection was lost or an attempt duplicated.
 * Flags: --kill N (default 300), --restart N (1000), --source N (500).
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { startEmbeddedPostgres, type EmbeddedPg } from "./lib/embedded-pg";
import { formatFigures, freePort, killWorker, pgRestart, sleep, sourceFaults, type Figures } from "../tests/faults/scenarios";

const { values } = parseArgs({ options: { kill: { type: "string", default: "300" }, restart: { type: "string", default: "1000" }, source: { type: "string", default: "500" } } });

async function main() {
  const root = path.resolve(import.meta.dirname, "..");
  const dataDir = path.join(root, `.data-chaos-${process.pid}`);
  const port = await freePort();
  let server: EmbeddedPg | undefined;
  const t0 = Date.now();
  const all: Figures[] = [];
  const cleanup = async () => {
    await server?.stop().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));
  try {
    server = await startEmbeddedPostgres({ dataDir, port, database: "postgres" });
    const base = server.url;
    const dbUrl = async (name: string) => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`CREATE DATABASE "${name}"`);
      await c.end();
      const u = new URL(base);
      u.pathname = `/${name}`;
      return u.toString();
    };
    console.log(`AAM fault suite — node ${process.version}, ${(await import("node:os")).cpus().length} cores, throwaway PostgreSQL on port ${port}\n`);

    all.push(await killWorker(await dbUrl("chaos_kill"), { intents: Number(values.kill), concurrency: 20 }));
    console.log(`${formatFigures(all.at(-1)!)}\n`);

    all.push(
      await pgRestart(await dbUrl("chaos_restart"), async () => {
        await server!.stop();
        await sleep(3_000);
        server = await startEmbeddedPostgres({ dataDir, port, database: "postgres" });
      }, { intents: Number(values.restart), concurrency: 20 }),
    );
    console.log(`${formatFigures(all.at(-1)!)}\n`);

    all.push(await sourceFaults(await dbUrl("chaos_source"), { intents: Number(values.source), concurrency: 20 }));
    console.log(`${formatFigures(all.at(-1)!)}\n`);
  } finally {
    await cleanup();
  }
  const lost = all.reduce((a, f) => a + f.lost, 0);
  const dup = all.reduce((a, f) => a + f.duplicated, 0);
  const intents = all.reduce((a, f) => a + f.intents, 0);
  const faults = all.reduce((a, f) => a + f.faultsInjected, 0);
  console.log(`Total: ${intents} intents, ${faults} faults injected, ${lost} connections lost, ${dup} attempts duplicated, in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.exit(lost || dup ? 1 : 0);
}

main().catch((e: unknown) => {
  console.error(`[chaos] ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  process.exit(1);
});
