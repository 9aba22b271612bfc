/**
 * Sessions that can end, against the real PostgreSQL: a disabled or demoted user loses access
 * within SESSION_RECHECK_MS (the role comes from the database), "sign out everywhere" ends every
 * older session, and a page costs no query per request.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SESSION_RECHECK_MS, forgetSessionState, recheckSession } from "../../server/auth/session-check";
import { bumpSessionVersion, readSessionState, verifyPassword } from "../../server/auth/user-repository";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { seedDatabase } from "../../server/db/seed";
import { createScratchDatabase } from "../helpers/db";

describe("sessions", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: Db;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await applyMigrations(scratch.url);
    db = createDb(scratch.url, 3);
    await seedDatabase(db, { adminEmail: "admin@sessions.test", adminPassword: "admin-password-1", execEmail: "exec@sessions.test", execPassword: "exec-password-1", sloTarget: 0.9 });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await scratch?.drop();
  });

  async function tokenFor(email: string, password: string) {
    const u = (await verifyPassword(db, email, password))!;
    return { uid: u.id, role: u.role, tenantId: u.tenantId, sv: u.sessionVersion };
  }

  it("a demoted admin is an exec, and a disabled user is signed out, within the re-check interval", async () => {
    const read = vi.fn((id: string) => readSessionState(db, id));
    const t0 = Date.now();
    const token = await tokenFor("admin@sessions.test", "admin-password-1");
    expect(await recheckSession({ ...token }, read, t0)).toMatchObject({ role: "admin" });
    // many requests within the interval: one query
    for (let i = 1; i < 100; i++) await recheckSession({ ...token }, read, t0 + i * 100);
    expect(read).toHaveBeenCalledTimes(1);

    await db.user.update({ where: { id: token.uid }, data: { role: "exec" } });
    expect(await recheckSession({ ...token }, read, t0 + SESSION_RECHECK_MS)).toMatchObject({ role: "exec" });
    await db.user.update({ where: { id: token.uid }, data: { disabledAt: new Date() } });
    expect(await recheckSession({ ...token }, read, t0 + 2 * SESSION_RECHECK_MS)).toBeNull();
    expect(SESSION_RECHECK_MS).toBeLessThanOrEqual(60_000);
    await db.user.update({ where: { id: token.uid }, data: { disabledAt: null, role: "admin" } });
    forgetSessionState(token.uid);
  });

  it("a disabled tenant ends its users' sessions", async () => {
    const token = await tokenFor("exec@sessions.test", "exec-password-1");
    forgetSessionState(token.uid);
    await db.tenant.update({ where: { id: token.tenantId }, data: { disabledAt: new Date() } });
    expect(await recheckSession({ ...token }, (id) => readSessionState(db, id))).toBeNull();
    await db.tenant.update({ where: { id: token.tenantId }, data: { disabledAt: null } });
    forgetSessionState(token.uid);
  });

  it("sign out everywhere ends older sessions at once in this process; new sign-ins work", async () => {
    const read = (id: string) => readSessionState(db, id);
    const older = await tokenFor("exec@sessions.test", "exec-password-1");
    expect(await recheckSession({ ...older }, read)).not.toBeNull();
    await bumpSessionVersion(db, older.uid);
    forgetSessionState(older.uid);
    expect(await recheckSession({ ...older }, read)).toBeNull();
    const newer = await tokenFor("exec@sessions.test", "exec-password-1");
    expect(newer.sv).toBe(older.sv + 1);
    expect(await recheckSession({ ...newer }, read)).toMatchObject({ role: "exec" });
    // another process learns of it within the interval
    expect(await recheckSession({ ...older }, read, Date.now() + SESSION_RECHECK_MS)).toBeNull();
  });

  it("a sign-in after 'sign out everywhere' made elsewhere is not refused by this process's cached state", async () => {
    const read = (id: string) => readSessionState(db, id);
    const before = await tokenFor("admin@sessions.test", "admin-password-1");
    // this process (or bundle) caches the state, then another process bumps the version …
    expect(await recheckSession({ ...before }, read)).not.toBeNull();
    await bumpSessionVersion(db, before.uid);
    // … and the user signs in again there: the new token is newer than the cache, so it is re-read
    const after = await tokenFor("admin@sessions.test", "admin-password-1");
    expect(after.sv).toBe(before.sv + 1);
    expect(await recheckSession({ ...after }, read)).toMatchObject({ role: "admin" });
    // and the old session now ends here as well
    expect(await recheckSession({ ...before }, read)).toBeNull();
  });

  it("keeps sessions while the database is unreachable, and tokens without a user id never pass", async () => {
    const token = { uid: "00000000-0000-0000-0000-000000000001", role: "admin" as const, tenantId: "t", sv: 0 };
    expect(await recheckSession({ ...token }, async () => Promise.reject(new Error("ECONNREFUSED")), Date.now() + 10 * SESSION_RECHECK_MS)).toMatchObject({ uid: token.uid });
    forgetSessionState(token.uid);
    expect(await recheckSession({ ...token }, async () => null)).toBeNull();
    expect(await recheckSession({ role: "admin" }, async () => null)).toBeNull();
  });
});
