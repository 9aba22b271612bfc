import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { DEFAULT_TENANT_SLUG, seedDatabase } from "../../server/db/seed";
import { provisionSsoUser } from "../../server/auth/user-repository";
import { createScratchDatabase } from "../helpers/db";

describe("single sign-on users", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await applyMigrations(scratch.url);
    db = createDb(scratch.url, 3);
    await seedDatabase(db, { adminEmail: "admin@sso.test", execEmail: "exec@sso.test", execPassword: "exec-password-1", sloTarget: 0.9 });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await scratch?.drop();
  });

  it("creates first-time users as execs unless listed as admins, and never changes an existing role", async () => {
    const base = { adminEmails: ["boss@corp.test"], tenantSlug: DEFAULT_TENANT_SLUG };
    const viewer = await provisionSsoUser(db, { ...base, email: "Viewer@Corp.test", name: "Viewer" });
    expect(viewer).toMatchObject({ email: "viewer@corp.test", role: "exec" });
    const boss = await provisionSsoUser(db, { ...base, email: "boss@corp.test" });
    expect(boss).toMatchObject({ role: "admin" });
    // the seeded exec stays an exec even if someone lists them as admin
    const exec = await provisionSsoUser(db, { ...base, adminEmails: ["exec@sso.test"], email: "exec@sso.test" });
    expect(exec).toMatchObject({ role: "exec" });
    // SSO users have no password: the credentials form cannot be used for them
    const row = await db.user.findUniqueOrThrow({ where: { email: "viewer@corp.test" } });
    expect(row.passwordHash).toBeNull();
    const twice = await Promise.all([provisionSsoUser(db, { ...base, email: "race@corp.test" }), provisionSsoUser(db, { ...base, email: "race@corp.test" })]);
    expect(twice[0]!.id).toBe(twice[1]!.id);
    expect(await provisionSsoUser(db, { ...base, tenantSlug: "missing", email: "new@corp.test" })).toBeNull();
  });
});
