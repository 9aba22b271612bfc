import { describe, expect, it } from "vitest";
import { TokenBucket } from "./rate-limit";

describe("token bucket", () => {
  it("allows a burst, then refuses what would wait too long", async () => {
    const b = new TokenBucket(60, 2); // 1 per second, burst 2
    expect(await b.take(0)).toBe(true);
    expect(await b.take(0)).toBe(true);
    expect(await b.take(0)).toBe(false);
  });
  it("waits for the next token when allowed to", async () => {
    const b = new TokenBucket(600, 1); // one per 100 ms
    expect(await b.take(0)).toBe(true);
    const t0 = performance.now();
    expect(await b.take(1000)).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
  });
});
