import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { DEFAULT_TENANT_SLUG, seedDatabase } from "../../server/db/seed";
import { signInWithSso } from "../../server/auth/user-repository";
import { createScratchDatabase } from "../helpers/db";

describe("single sign-on users", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;
  const base = { provider: "sso", emailVerified: true, adminEmails: ["boss@corp.test"], tenantSlug: DEFAULT_TENANT_SLUG };
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
    const viewer = await signInWithSso(db, { ...base, subject: "viewer-sub", email: "Viewer@Corp.test", name: "Viewer" });
    expect(viewer).toMatchObject({ ok: true, user: { email: "viewer@corp.test", role: "exec" } });
    const boss = await signInWithSso(db, { ...base, subject: "boss-sub", email: "boss@corp.test" });
    expect(boss).toMatchObject({ ok: true, user: { role: "admin" } });
    // the seeded exec stays an exec even if someone lists them as admin
    const exec = await signInWithSso(db, { ...base, subject: "exec-sub", adminEmails: ["exec@sso.test"], email: "exec@sso.test" });
    expect(exec).toMatchObject({ ok: true, user: { role: "exec" } });
    // SSO users have no password: the credentials form cannot be used for them
    const row = await db.user.findUniqueOrThrow({ where: { email: "viewer@corp.test" } });
    expect(row.passwordHash).toBeNull();
    const twice = await Promise.all([signInWithSso(db, { ...base, subject: "race", email: "race@corp.test" }), signInWithSso(db, { ...base, subject: "race", email: "race@corp.test" })]);
    expect(twice[0].ok && twice[1].ok && twice[0].user.id === twice[1].user.id).toBe(true);
    expect(await signInWithSso(db, { ...base, subject: "new", tenantSlug: "missing", email: "new@corp.test" })).toEqual({ ok: false, reason: "no_tenant" });
  });

  it("trusts the IdP's email only when it is verified: no account is created or linked otherwise", async () => {
    // someone registers admin@sso.test at a lax IdP without proving it: not the local admin
    expect(await signInWithSso(db, { ...base, subject: "attacker", email: "admin@sso.test", emailVerified: false })).toEqual({ ok: false, reason: "email_not_verified" });
    expect(await signInWithSso(db, { ...base, subject: "stranger", email: "stranger@corp.test", emailVerified: false })).toEqual({ ok: false, reason: "email_not_verified" });
    expect(await db.user.count({ where: { email: "stranger@corp.test" } })).toBe(0);
    expect(await db.account.count({ where: { providerAccountId: { in: ["attacker", "stranger"] } } })).toBe(0);
    // verified: links to the existing local admin by email, and later sign-ins find it by subject
    const admin = await db.user.findUniqueOrThrow({ where: { email: "admin@sso.test" } });
    expect(await signInWithSso(db, { ...base, subject: "admin-sub", email: "admin@sso.test" })).toMatchObject({ ok: true, user: { id: admin.id, role: "admin" } });
    expect(await db.account.findFirst({ where: { provider: "sso", providerAccountId: "admin-sub" }, select: { userId: true } })).toEqual({ userId: admin.id });
    expect(await signInWithSso(db, { ...base, subject: "admin-sub", email: "renamed@corp.test", emailVerified: false })).toMatchObject({ ok: true, user: { id: admin.id } });
  });

  it("refuses disabled users and users of a disabled tenant", async () => {
    await db.user.update({ where: { email: "viewer@corp.test" }, data: { disabledAt: new Date() } });
    expect(await signInWithSso(db, { ...base, subject: "viewer-sub", email: "viewer@corp.test" })).toEqual({ ok: false, reason: "disabled" });
    await db.tenant.update({ where: { slug: DEFAULT_TENANT_SLUG }, data: { disabledAt: new Date() } });
    expect(await signInWithSso(db, { ...base, subject: "boss-sub", email: "boss@corp.test" })).toEqual({ ok: false, reason: "disabled" });
    expect(await signInWithSso(db, { ...base, subject: "fresh", email: "fresh@corp.test" })).toEqual({ ok: false, reason: "disabled" });
    await db.tenant.update({ where: { slug: DEFAULT_TENANT_SLUG }, data: { disabledAt: null } });
  });
});
