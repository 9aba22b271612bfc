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

describe("per-connection buckets", () => {
  it("allow a first-onboarding burst, then hold the sustained rate", async () => {
    const { bucketFor, CONNECTION_BURST } = await import("./rate-limit");
    const b = bucketFor(`conn-${Math.random()}`, 60);
    for (let i = 0; i < CONNECTION_BURST; i++) expect(await b.take(0)).toBe(true);
    expect(await b.take(0)).toBe(false);
    expect(bucketFor("same", 60)).toBe(bucketFor("same", 60));
  });
});

describe("per-connection buckets are bounded (LRU)", () => {
  it("never hold more than the cap, and keep a bucket in use while new ids flood in", async () => {
    const { bucketFor, connectionBucketCount, MAX_CONNECTION_BUCKETS } = await import("./rate-limit");
    const hot = bucketFor("hot-connection", 60);
    for (let i = 0; i < CONNECTION_BURST_TAKE; i++) await hot.take(0); // the hot bucket is drained
    for (let i = 0; i < MAX_CONNECTION_BUCKETS * 2; i++) {
      bucketFor(`flood-${i}`, 60);
      if (i % 1000 === 0) expect(bucketFor("hot-connection", 60)).toBe(hot); // in use: never dropped
    }
    expect(connectionBucketCount()).toBeLessThanOrEqual(MAX_CONNECTION_BUCKETS);
    expect(bucketFor("hot-connection", 60)).toBe(hot); // no wipe: its drained state is kept
    expect(await hot.take(0)).toBe(false);
    expect(bucketFor("flood-0", 60)).not.toBe(undefined);
  });
});
const CONNECTION_BURST_TAKE = 20;
