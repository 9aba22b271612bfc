/**
 * Acceptance (issue 11): a worker is SIGKILLed with attempts in flight; after a new worker is up,
 * every connection is final within 30 s, with exactly one successful (committed) first sync each
 * and never two tries of one connection at the source at the same time.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createScratchDatabase } from "../helpers/db";
import { killWorker } from "./scenarios";

let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
afterAll(async () => void (await scratch?.drop()));

describe("kill -9 of a worker mid-attempt", () => {
  it("every connection is final within 30 s of the restart, with one first sync each", { timeout: 180_000 }, async () => {
    scratch = await createScratchDatabase();
    const f = await killWorker(scratch.url, { intents: 150, concurrency: 20 });
    expect(f.inFlightAtFault).toBeGreaterThanOrEqual(10);
    expect(f.afterRestartMs).toBeLessThan(30_000);
    // the dead worker's attempts are taken over by lease expiry (8 s), not the 120 s stall timer
    expect(f.takeoverMs).toBeLessThan(20_000);
    expect(f.final).toBe(150);
    expect(f.active).toBe(150);
    expect(f.lost).toBe(0);
    expect(f.duplicated).toBe(0);
  });
});
