import { performance } from "node:perf_hooks";
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { hashPassword, needsRehash, verifyPasswordHash } from "./passwords";

/** Time the event loop spent running JavaScript (not idle) while `work` ran, in ms. */
async function busyMs(work: () => Promise<unknown>): Promise<number> {
  const before = performance.eventLoopUtilization();
  await work();
  return performance.eventLoopUtilization(before).active;
}

describe("passwords", () => {
  it("hashes with scrypt and verifies only the right password", async () => {
    const h = await hashPassword("correct horse");
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPasswordHash("correct horse", h)).toBe(true);
    expect(await verifyPasswordHash("wrong horse", h)).toBe(false);
    expect(needsRehash(h)).toBe(false);
    expect(await verifyPasswordHash("x", "not a hash")).toBe(false);
  });

  it("still verifies the bcrypt hashes stored before, and marks them for an upgrade", async () => {
    const old = bcrypt.hashSync("seeded-password", 10);
    expect(await verifyPasswordHash("seeded-password", old)).toBe(true);
    expect(await verifyPasswordHash("other", old)).toBe(false);
    expect(needsRehash(old)).toBe(true);
  });

  it("never blocks the event loop: 8 scrypt and 8 bcrypt checks cost the loop almost nothing", async () => {
    const h = await hashPassword("pw");
    const old = bcrypt.hashSync("pw", 10);
    await verifyPasswordHash("pw", old); // start the bcrypt worker thread
    const sync = await busyMs(async () => bcrypt.compareSync("pw", old));
    const ours = await busyMs(() => Promise.all([...Array.from({ length: 8 }, () => verifyPasswordHash("pw", h)), ...Array.from({ length: 8 }, () => verifyPasswordHash("pw", old))]));
    // on the loop, sixteen checks would cost at least 8 × one bcrypt (the scrypt ones are cheaper);
    // off it, the loop only runs their callbacks (on 2 cores the hashing threads still slow it a little)
    expect(ours).toBeLessThan(2 * sync);
  });
});
