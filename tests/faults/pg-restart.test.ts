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
import { freePort, pgRestart, sleep } from "./scenarios";

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
});
