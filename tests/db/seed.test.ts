import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { seedDatabase } from "../../server/db/seed";
import { authenticateApiKey } from "../../server/auth/api-key-repository";
import { verifyPassword } from "../../server/auth/user-repository";
import { createScratchDatabase } from "../helpers/db";

describe("first-start seed", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await applyMigrations(scratch.url);
    db = createDb(scratch.url, 3);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await scratch?.drop();
  });

  it("creates the tenant, users, API key and demo connections once, storing only hashes", async () => {
    const input = { adminEmail: "Admin@Example.com", execEmail: "exec@example.com", execPassword: "exec-password-1", sloTarget: 0.9 };
    const first = await seedDatabase(db, input);
    expect(first.created).toBe(true);
    expect(first.admin!.email).toBe("admin@example.com");
    expect(first.admin!.password.length).toBeGreaterThanOrEqual(12);
    expect(first.exec!.password).toBe("exec-password-1");

    const users = await db.user.findMany({ select: { email: true, role: true, passwordHash: true } });
    expect(users.map((u) => [u.email, u.role]).sort()).toEqual([["admin@example.com", "admin"], ["exec@example.com", "exec"]]);
    for (const u of users) expect(u.passwordHash).toMatch(/^\$2[aby]\$10\$/);
    expect(await bcrypt.compare("exec-password-1", users.find((u) => u.role === "exec")!.passwordHash!)).toBe(true);

    const keys = await db.apiKey.findMany({ select: { hash: true, prefix: true } });
    expect(keys).toHaveLength(1);
    expect(first.apiKey).toContain(keys[0]!.prefix);
    expect(first.apiKey).not.toContain(keys[0]!.hash);
    expect(await authenticateApiKey(db, first.apiKey!)).toMatchObject({ tenantId: first.tenantId });
    expect(await authenticateApiKey(db, `${first.apiKey!}x`)).toBeNull();

    expect(await verifyPassword(db, "ADMIN@example.com", first.admin!.password)).toMatchObject({ role: "admin" });
    expect(await verifyPassword(db, "admin@example.com", "wrong")).toBeNull();
    expect(await verifyPassword(db, "nobody@example.com", "wrong")).toBeNull();

    const demo = await db.connection.findMany({ where: { namespace: "demo" } });
    expect(demo.length).toBeGreaterThanOrEqual(5);
    expect(await db.setting.count()).toBe(2);

    const second = await seedDatabase(db, input);
    expect(second).toEqual({ created: false, tenantId: first.tenantId });
    expect(await db.user.count()).toBe(2);
    expect(await db.connection.count()).toBe(demo.length);
  });

  it("two first starts at once seed exactly once", async () => {
    const other = await createScratchDatabase();
    await applyMigrations(other.url);
    const a = createDb(other.url, 2);
    const b = createDb(other.url, 2);
    const input = { adminEmail: "a@example.com", execEmail: "e@example.com", apiKey: "aam_fixedkey_0123456789abcdefghijkl", sloTarget: 0.9 };
    const results = await Promise.all([seedDatabase(a, input), seedDatabase(b, input)]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await a.tenant.count()).toBe(1);
    expect(await authenticateApiKey(a, "aam_fixedkey_0123456789abcdefghijkl")).not.toBeNull();
    await a.$disconnect();
    await b.$disconnect();
    await other.drop();
  });
});
