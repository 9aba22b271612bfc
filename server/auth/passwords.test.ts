import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { hashPassword, needsRehash, verifyPasswordHash } from "./passwords";

/** Longest gap between timer ticks while `work` runs: a blocked event loop shows up here. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 2);
  await work();
  clearInterval(timer);
  return worst;
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

  it("never blocks the event loop: 8 scrypt and 8 bcrypt checks at once leave timers on time", async () => {
    const h = await hashPassword("pw");
    const old = bcrypt.hashSync("pw", 10);
    const stall = await longestStall(() => Promise.all([...Array.from({ length: 8 }, () => verifyPasswordHash("pw", h)), ...Array.from({ length: 8 }, () => verifyPasswordHash("pw", old))]));
    // one synchronous bcrypt at cost 10 alone takes ~60–100 ms here
    expect(stall).toBeLessThan(40);
  });
});
