/**
 * Every process-wide map keyed by API input is an LRU with a cap (issue 11, item 6): a flood of
 * new namespaces, tenants or keys never grows it past the cap and never wipes the entry in use.
 */
import { describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import { keyBucket, keyBucketCount, MAX_KEY_BUCKETS } from "../http/respond";
import { createPolicyLoader } from "../onboarding/deps";
import { createDestinationLoader } from "../onboarding/destination-grant";
import { createTenantScopes } from "../credentials/tenant-scope";
import { lru } from "./lru";

function countingDb() {
  const calls = { settings: 0, destinations: 0 };
  const db = {
    setting: { findUnique: async () => (calls.settings++, null) },
    approvedDestination: { findMany: async () => (calls.destinations++, []) },
  } as unknown as Db;
  return { db, calls };
}

describe("lru", () => {
  it("evicts the least recently used entry, not everything", () => {
    const m = lru<string, number>(3);
    m.set("a", 1);
    m.set("b", 2);
    m.set("c", 3);
    m.get("a");
    m.set("d", 4);
    expect([...m.keys()].sort()).toEqual(["a", "c", "d"]);
  });
});

describe("Safe Mode policy cache (per tenant/namespace)", () => {
  it("holds at most its cap while namespaces flood in, and keeps the one in use", async () => {
    const { db, calls } = countingDb();
    const load = createPolicyLoader(db, 60_000, 50);
    await load("t", "hot");
    for (let i = 0; i < 500; i++) {
      await load("t", `ns-${i}`);
      if (i % 10 === 0) await load("t", "hot");
    }
    const before = calls.settings;
    await load("t", "hot"); // still cached: no read
    expect(calls.settings).toBe(before);
    await load("t", "ns-0"); // evicted long ago: read again
    expect(calls.settings).toBe(before + 1);
  });
});

describe("approved-destination cache (per tenant)", () => {
  it("holds at most its cap while tenants flood in, and keeps the one in use", async () => {
    const { db, calls } = countingDb();
    const load = createDestinationLoader(db, { ttlMs: 60_000, maxTenants: 20 });
    await load("hot", "github", {});
    for (let i = 0; i < 200; i++) {
      await load(`tenant-${i}`, "github", {});
      if (i % 5 === 0) await load("hot", "github", {});
    }
    const before = calls.destinations;
    await load("hot", "github", {});
    expect(calls.destinations).toBe(before);
    await load("tenant-0", "github", {});
    expect(calls.destinations).toBe(before + 1);
  });
});

describe("REST per-key rate buckets", () => {
  it("are LRU-capped: a drained key's bucket survives a flood of other keys", async () => {
    const hot = keyBucket("hot-key", 2);
    expect(await hot.take(0)).toBe(true);
    expect(await hot.take(0)).toBe(true);
    expect(await hot.take(0)).toBe(false);
    for (let i = 0; i < MAX_KEY_BUCKETS + 500; i++) {
      keyBucket(`k-${i}`, 60);
      if (i % 1000 === 0) keyBucket("hot-key", 2);
    }
    expect(keyBucketCount()).toBeLessThanOrEqual(MAX_KEY_BUCKETS);
    expect(keyBucket("hot-key", 2)).toBe(hot); // no reset of a limited key by wiping the map
    expect(await hot.take(0)).toBe(false);
  });
});

describe("tenant scopes (credential resolver)", () => {
  it("are LRU-capped: the tenant in use stays cached while others flood in", async () => {
    let reads = 0;
    const db = { tenant: { findUnique: async ({ where }: { where: { id: string } }) => (reads++, { id: where.id, slug: `t-${where.id}` }) } } as unknown as Db;
    const scopeOf = createTenantScopes(db, 10);
    await scopeOf("hot");
    for (let i = 0; i < 100; i++) {
      await scopeOf(`t${i}`);
      if (i % 3 === 0) await scopeOf("hot");
    }
    const before = reads;
    await scopeOf("hot");
    expect(reads).toBe(before);
    await scopeOf("t0");
    expect(reads).toBe(before + 1);
  });
});
