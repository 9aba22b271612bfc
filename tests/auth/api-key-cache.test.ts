/**
 * API-key checks against the real PostgreSQL: unknown prefixes cost no query each, a key revoked
 * by another process stops working within a second, one created elsewhere works within a second.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticateApiKey, createApiKey, revokeApiKey } from "../../server/auth/api-key-repository";
import { generateApiKey } from "../../server/auth/api-keys";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { seedDatabase } from "../../server/db/seed";
import { createScratchDatabase } from "../helpers/db";

/** Counts the apiKey queries a client makes. */
function counted(db: Db): { db: Db; queries: () => number } {
  let n = 0;
  const apiKey = new Proxy(db.apiKey, { get: (t, k) => (typeof (t as never)[k] === "function" ? (...a: unknown[]) => (n++, (t as never as Record<string, (...x: unknown[]) => unknown>)[k as string]!(...a)) : (t as never)[k]) });
  return { db: new Proxy(db, { get: (t, k) => (k === "apiKey" ? apiKey : (t as never)[k]) }) as Db, queries: () => n };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("API-key cache", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let web: Db; // the web process
  let cli: Db; // another process (a CLI, an admin's tRPC call on another web process)
  let tenantId: string;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await applyMigrations(scratch.url);
    web = createDb(scratch.url, 3);
    cli = createDb(scratch.url, 2);
    const seed = await seedDatabase(web, { adminEmail: "a@keys.test", execEmail: "e@keys.test", sloTarget: 0.9 });
    tenantId = seed.tenantId;
  });
  afterAll(async () => {
    await web?.$disconnect();
    await cli?.$disconnect();
    await scratch?.drop();
  });

  it("answers 2,000 unknown prefixes with at most a few queries", async () => {
    const c = counted(web);
    const t0 = Date.now();
    for (let i = 0; i < 2000; i++) expect(await authenticateApiKey(c.db, generateApiKey().key)).toBeNull();
    const seconds = (Date.now() - t0) / 1000;
    expect(c.queries()).toBeLessThanOrEqual(1 + Math.ceil(seconds * 4));
    expect(c.queries()).toBeLessThan(20);
  });

  it("a known key costs one query per half second, and a revoked one stops within a second", async () => {
    const { key, row } = await createApiKey(cli, tenantId, "elsewhere");
    await sleep(300); // the web process learns of it within PREFIX_RELOAD_MS
    const c = counted(web);
    expect(await authenticateApiKey(c.db, key)).toMatchObject({ tenantId, keyId: row.id });
    const before = c.queries();
    for (let i = 0; i < 200; i++) expect(await authenticateApiKey(c.db, key)).not.toBeNull();
    expect(c.queries() - before).toBeLessThanOrEqual(2);
    expect(await revokeApiKey(cli, tenantId, row.id)).toEqual({ name: row.name, prefix: row.prefix });
    const revokedAt = Date.now();
    while ((await authenticateApiKey(web, key)) !== null) await sleep(20);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
  });

  it("revocation in the same process applies at once", async () => {
    const { key, row } = await createApiKey(web, tenantId, "here");
    expect(await authenticateApiKey(web, key)).not.toBeNull(); // no wait: this process created it
    await revokeApiKey(web, tenantId, row.id);
    expect(await authenticateApiKey(web, key)).toBeNull();
  });

  it("a disabled tenant's key stops within a second", async () => {
    const { key } = await createApiKey(web, tenantId, "tenant-off");
    expect(await authenticateApiKey(web, key)).not.toBeNull();
    await cli.tenant.update({ where: { id: tenantId }, data: { disabledAt: new Date() } });
    await sleep(600);
    expect(await authenticateApiKey(web, key)).toBeNull();
    await cli.tenant.update({ where: { id: tenantId }, data: { disabledAt: null } });
  });
});

describe("API-key check while the database is down", () => {
  it("answers 503 in words, without the driver's text", async () => {
    const { authenticateRequest } = await import("../../server/http/respond");
    const down = {
      apiKey: {
        findMany: async () => Promise.reject(new Error("connect ECONNREFUSED db.internal:5432 (relation \"api_keys\")")),
        findUnique: async () => Promise.reject(new Error("connect ECONNREFUSED db.internal:5432")),
      },
    } as unknown as Db;
    const r = await authenticateRequest(new Request("http://app.test/api/metrics/funnel", { headers: { authorization: `Bearer ${generateApiKey().key}` } }), down, 600);
    expect(r.ok).toBe(false);
    const res = (r as { response: Response }).response;
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toMatch(/ECONNREFUSED|db\.internal|api_keys|5432/);
    expect(JSON.parse(text).error.message).toMatch(/^The service cannot check API keys right now/);
  });
});
