/**
 * People per tenant (issue 12) against the real PostgreSQL: invite links (72 h, single use, hash
 * only), passwords set from them (strength checked), role changes and disabling with the last
 * active admin kept (also under concurrent demotions), password-reset links, single sign-on
 * users managed alike, sign-ins recorded, and an audit log that records every action and never
 * a secret. Through the use-cases and through the tRPC procedures (roles enforced).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSessionState, signInWithSso, verifyPassword } from "../../server/auth/user-repository";
import type { Db } from "../../server/db/client";
import { acceptLink, describeLink } from "../../server/people/accept-invite";
import { changeRole } from "../../server/people/change-role";
import { inviteUser } from "../../server/people/invite-user";
import { listUsers } from "../../server/people/list-users";
import { OPEN_INVITES_LISTED } from "../../server/people/people-repository";
import { passwordProblem } from "../../server/people/password-strength";
import type { Admin } from "../../server/people/people-deps";
import { recordSignIn } from "../../server/people/record-sign-in";
import { requestPasswordReset } from "../../server/people/reset-password";
import { revokeInvite } from "../../server/people/revoke-invite";
import { setUserDisabled } from "../../server/people/set-user-disabled";
import { hashLinkToken, INVITE_TTL_MS } from "../../server/people/tokens";
import { createTenant } from "../../server/tenants/tenant-repository";
import { testDb } from "../helpers/db";

let db: Db;
const deps = () => ({ db });
const GOOD = "violet-harbour-lamp-42";

beforeAll(() => {
  db = testDb();
});
afterAll(async () => {
  // healAll reached the process-wide queue (server/http/services.ts): close it
  const g = globalThis as unknown as { __aamServices?: { queue: Promise<{ close(): Promise<void> }>; waiter: { close(): Promise<void> }; db: Db } };
  if (g.__aamServices) {
    await (await g.__aamServices.queue).close();
    await g.__aamServices.waiter.close();
    await g.__aamServices.db.$disconnect();
  }
  await db?.$disconnect();
});

const uniq = () => randomBytes(4).toString("hex");

async function newTenant(): Promise<{ tenantId: string; admin: Admin; password: string; apiKey: string }> {
  const slug = `people-${uniq()}`;
  const t = await createTenant(db, { slug, name: slug, adminEmail: `admin@${slug}.test`, sloTarget: 0.9 });
  const row = await db.user.findUniqueOrThrow({ where: { email: t.admin_email }, select: { id: true } });
  return { tenantId: t.tenant_id, admin: { id: row.id, tenantId: t.tenant_id, email: t.admin_email }, password: t.admin_password, apiKey: t.api_key };
}

const tokenOf = (path: string) => path.replace(/^\/invite\//, "");

/** Invites and accepts: a user of the tenant with that role, and their password. */
async function addPerson(admin: Admin, role: "admin" | "exec", email = `${role}-${uniq()}@people.test`) {
  const inv = await inviteUser(deps(), admin, { email, role });
  if (!inv.ok) throw new Error(inv.error.message);
  const acc = await acceptLink(deps(), { token: tokenOf(inv.value.path), password: GOOD });
  if (!acc.ok) throw new Error(acc.error.message);
  const u = await db.user.findUniqueOrThrow({ where: { email }, select: { id: true } });
  return { id: u.id, email, tenantId: admin.tenantId } satisfies Admin;
}

// imported when first needed: the router pulls in the whole app (catalog, drivers)
const router = async () => (await import("../../server/trpc/router")).appRouter;

async function callerFor(user: { id: string; tenantId: string; email: string }, role: "admin" | "exec") {
  return (await router()).createCaller({ db, session: { user: { id: user.id, role, tenantId: user.tenantId, email: user.email }, expires: new Date(Date.now() + 60_000).toISOString() } });
}

async function auditOf(tenantId: string) {
  return db.auditEvent.findMany({ where: { tenantId }, orderBy: { id: "asc" }, select: { action: true, actorLabel: true, target: true, details: true } });
}

describe("password strength", () => {
  it("refuses short, common, repetitive and email-like passwords in words, accepts a passphrase", () => {
    expect(passwordProblem("short-pass1")).toMatch(/at least 12 characters/);
    expect(passwordProblem("Password1234")).toMatch(/most commonly used/);
    expect(passwordProblem("qwerty123456")).toMatch(/most commonly used/);
    expect(passwordProblem("abcabcabcabc")).toMatch(/repeats a short pattern/);
    expect(passwordProblem("aaaaaaaaaaaaaaa")).toMatch(/repeats/);
    expect(passwordProblem("jane.doe@corp.test", "jane.doe@corp.test")).toMatch(/email address/);
    expect(passwordProblem("jane.doe2026!", "jane.doe@corp.test")).toMatch(/email address/);
    expect(passwordProblem("x".repeat(201))).toMatch(/at most 200/);
    expect(passwordProblem(GOOD, "jane.doe@corp.test")).toBeNull();
  });
});

describe("invites", () => {
  it("an invite link is shown once, valid 72 h, stored only as a hash; accepting it creates the user with the role", async () => {
    const { admin, tenantId } = await newTenant();
    const t0 = new Date();
    const tag = uniq();
    const email = `new.exec-${tag}@people.test`;
    const inv = await inviteUser(deps(), admin, { email: `  New.Exec-${tag}@People.TEST `, role: "exec" });
    expect(inv.ok).toBe(true);
    if (!inv.ok) return;
    expect(inv.value).toMatchObject({ email: email, role: "exec", path: expect.stringMatching(/^\/invite\/[A-Za-z0-9_-]{40,}$/) });
    expect(inv.value.expiresAt.getTime() - t0.getTime()).toBeGreaterThan(INVITE_TTL_MS - 60_000);
    expect(inv.value.expiresAt.getTime() - t0.getTime()).toBeLessThanOrEqual(INVITE_TTL_MS + 60_000);
    const token = tokenOf(inv.value.path);
    const row = await db.invite.findUniqueOrThrow({ where: { id: inv.value.id } });
    expect(row.tokenHash).toBe(hashLinkToken(token));
    expect(JSON.stringify(row)).not.toContain(token);

    const page = await listUsers(deps(), admin);
    expect(page.invites.map((i) => i.email)).toEqual([email]);
    expect(await describeLink(deps(), token)).toMatchObject({ ok: true, value: { kind: "invite", email: email } });

    const weak = await acceptLink(deps(), { token, password: "password1234" });
    expect(weak).toMatchObject({ ok: false, error: { code: "WEAK_PASSWORD", message: expect.stringMatching(/commonly used/) } });
    const differ = await acceptLink(deps(), { token, password: GOOD, confirm: GOOD + "x" });
    expect(differ).toMatchObject({ ok: false, error: { message: expect.stringMatching(/differ/) } });
    expect(await acceptLink(deps(), { token, password: GOOD, confirm: GOOD })).toMatchObject({ ok: true, value: { kind: "invite", email: email } });

    const user = await verifyPassword(db, email, GOOD);
    expect(user).toMatchObject({ role: "exec", tenantId });
    const stored = await db.user.findUniqueOrThrow({ where: { email: email }, select: { passwordHash: true } });
    expect(stored.passwordHash).not.toContain(GOOD);
    expect(stored.passwordHash).toMatch(/^\$2[aby]\$|^scrypt\$/);

    // single use, in words
    expect(await acceptLink(deps(), { token, password: GOOD })).toMatchObject({ ok: false, error: { code: "LINK_INVALID", message: expect.stringMatching(/already been used/) } });
    expect((await listUsers(deps(), admin)).invites).toEqual([]);
  });

  it("the Users page lists the newest open invites and counts them all", async () => {
    const { admin, tenantId } = await newTenant();
    await db.$executeRawUnsafe(
      `INSERT INTO invites (id, tenant_id, kind, email, role, token_hash, expires_at, created_by, created_at)
       SELECT gen_random_uuid(), $1::uuid, 'invite', 'p' || g || '@people.test', 'exec', 'hash-' || $1 || '-' || g, now() + interval '72 hours', 'admin', now() - (300 - g) * interval '1 second'
       FROM generate_series(1, $2::int) g`,
      tenantId,
      OPEN_INVITES_LISTED + 50,
    );
    const page = await listUsers(deps(), admin);
    expect(page.invites).toHaveLength(OPEN_INVITES_LISTED);
    expect(page.invites[0]!.email).toBe(`p${OPEN_INVITES_LISTED + 50}@people.test`);
    expect(page.invitesTotal).toBe(OPEN_INVITES_LISTED + 50);
  });

  it("expires; a re-invite replaces the open link; a revoked link stops; a taken email and a bad email are refused", async () => {
    const { admin } = await newTenant();
    const email = `late-${uniq()}@people.test`;
    const first = await inviteUser(deps(), admin, { email, role: "admin" });
    if (!first.ok) throw new Error();
    const later = { db, now: () => new Date(Date.now() + INVITE_TTL_MS + 1000) };
    expect(await acceptLink(later, { token: tokenOf(first.value.path), password: GOOD })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/expired/) } });

    const second = await inviteUser(deps(), admin, { email, role: "exec" });
    if (!second.ok) throw new Error();
    expect(await describeLink(deps(), tokenOf(first.value.path))).toMatchObject({ ok: false, error: { message: expect.stringMatching(/replaced by a newer one/) } });
    expect(await revokeInvite(deps(), admin, second.value.id)).toMatchObject({ ok: true });
    expect(await acceptLink(deps(), { token: tokenOf(second.value.path), password: GOOD })).toMatchObject({ ok: false, error: { code: "LINK_INVALID" } });
    expect(await describeLink(deps(), "not-a-token")).toMatchObject({ ok: false, error: { code: "LINK_INVALID" } });
    expect(await describeLink(deps(), randomBytes(32).toString("base64url"))).toMatchObject({ ok: false, error: { code: "LINK_INVALID" } });

    expect(await inviteUser(deps(), admin, { email: admin.email, role: "exec" })).toMatchObject({ ok: false, error: { code: "EMAIL_TAKEN", message: expect.stringMatching(/already has an account/) } });
    expect(await inviteUser(deps(), admin, { email: "not an email", role: "exec" })).toMatchObject({ ok: false, error: { code: "INVALID" } });
  });

  it("two submissions of one link at once create one user", async () => {
    const { admin } = await newTenant();
    const email = `race-${uniq()}@people.test`;
    const inv = await inviteUser(deps(), admin, { email, role: "exec" });
    if (!inv.ok) throw new Error();
    const results = await Promise.all([1, 2, 3].map(() => acceptLink(deps(), { token: tokenOf(inv.value.path), password: GOOD })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await db.user.count({ where: { email } })).toBe(1);
  });
});

describe("roles and disabling", () => {
  it("changes a role; the last active admin cannot be demoted or disabled, in words", async () => {
    const { admin } = await newTenant();
    const exec = await addPerson(admin, "exec");
    expect(await changeRole(deps(), admin, { userId: exec.id, role: "admin" })).toMatchObject({ ok: true, value: { role: "admin" } });
    expect(await changeRole(deps(), admin, { userId: exec.id, role: "exec" })).toMatchObject({ ok: true, value: { role: "exec" } });
    const self = await changeRole(deps(), admin, { userId: admin.id, role: "exec" });
    expect(self).toMatchObject({ ok: false, error: { code: "LAST_ADMIN", message: `${admin.email} is the last active admin of this tenant and cannot be demoted: make someone else an admin first.` } });
    expect(await setUserDisabled(deps(), admin, { userId: admin.id, disabled: true })).toMatchObject({ ok: false, error: { code: "SELF" } });
    // a second admin may disable the last other one? no: the last active admin stays
    const other = await addPerson(admin, "admin");
    expect(await setUserDisabled(deps(), other, { userId: admin.id, disabled: true })).toMatchObject({ ok: true });
    expect(await changeRole(deps(), other, { userId: other.id, role: "exec" })).toMatchObject({ ok: false, error: { code: "LAST_ADMIN" } });
    expect((await db.user.findUniqueOrThrow({ where: { id: other.id } })).role).toBe("admin");
  });

  it("two concurrent demotions of the last two admins: exactly one passes", async () => {
    for (let round = 0; round < 5; round++) {
      const { admin, tenantId } = await newTenant();
      const second = await addPerson(admin, "admin");
      const [a, b] = await Promise.all([changeRole(deps(), admin, { userId: second.id, role: "exec" }), changeRole(deps(), second, { userId: admin.id, role: "exec" })]);
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
      expect(await db.user.count({ where: { tenantId, role: "admin", disabledAt: null } })).toBe(1);
      // and a demotion racing a disable
      const third = await addPerson(admin.id === (a.ok ? admin.id : second.id) ? admin : second, "admin");
      const keeper = a.ok ? admin : second;
      const [c, d] = await Promise.all([setUserDisabled(deps(), third, { userId: keeper.id, disabled: true }), changeRole(deps(), keeper, { userId: third.id, role: "exec" })]);
      expect([c.ok, d.ok].filter(Boolean)).toHaveLength(1);
      expect(await db.user.count({ where: { tenantId, role: "admin", disabledAt: null } })).toBe(1);
    }
  });

  it("disabling ends access (sign-in refused, session state inactive, sessions invalidated); enabling restores sign-in", async () => {
    const { admin } = await newTenant();
    const exec = await addPerson(admin, "exec");
    const before = await readSessionState(db, exec.id);
    expect(before?.active).toBe(true);
    expect(await setUserDisabled(deps(), admin, { userId: exec.id, disabled: true })).toMatchObject({ ok: true, value: { disabledAt: expect.any(Date) } });
    expect(await verifyPassword(db, exec.email, GOOD)).toBeNull();
    const after = await readSessionState(db, exec.id);
    expect(after).toMatchObject({ active: false });
    expect(after!.sessionVersion).toBeGreaterThan(before!.sessionVersion);
    expect(await setUserDisabled(deps(), admin, { userId: exec.id, disabled: false })).toMatchObject({ ok: true, value: { disabledAt: null } });
    expect(await verifyPassword(db, exec.email, GOOD)).toMatchObject({ email: exec.email });
  });
});

describe("password reset links", () => {
  it("an admin's reset link sets a new password once and ends older sessions; disabled users get none", async () => {
    const { admin } = await newTenant();
    const exec = await addPerson(admin, "exec");
    const v0 = (await readSessionState(db, exec.id))!.sessionVersion;
    const first = await requestPasswordReset(deps(), admin, exec.id);
    const link = await requestPasswordReset(deps(), admin, exec.id);
    if (!first.ok || !link.ok) throw new Error();
    expect(await describeLink(deps(), tokenOf(first.value.path))).toMatchObject({ ok: false });
    expect(await describeLink(deps(), tokenOf(link.value.path))).toMatchObject({ ok: true, value: { kind: "reset", email: exec.email } });
    expect(await acceptLink(deps(), { token: tokenOf(link.value.path), password: "short" })).toMatchObject({ ok: false, error: { code: "WEAK_PASSWORD" } });
    const fresh = "copper-window-rain-77";
    expect(await acceptLink(deps(), { token: tokenOf(link.value.path), password: fresh })).toMatchObject({ ok: true, value: { kind: "reset" } });
    expect(await verifyPassword(db, exec.email, GOOD)).toBeNull();
    expect(await verifyPassword(db, exec.email, fresh)).toMatchObject({ email: exec.email, role: "exec" });
    expect((await readSessionState(db, exec.id))!.sessionVersion).toBeGreaterThan(v0);
    expect(await acceptLink(deps(), { token: tokenOf(link.value.path), password: "another-good-pass-1" })).toMatchObject({ ok: false });

    const pending = await requestPasswordReset(deps(), admin, exec.id);
    if (!pending.ok) throw new Error();
    await setUserDisabled(deps(), admin, { userId: exec.id, disabled: true });
    expect(await acceptLink(deps(), { token: tokenOf(pending.value.path), password: "another-good-pass-1" })).toMatchObject({ ok: false, error: { code: "LINK_INVALID" } });
    expect(await requestPasswordReset(deps(), admin, exec.id)).toMatchObject({ ok: false, error: { code: "DISABLED" } });
  });
});

describe("single sign-on users", () => {
  it("appear in the list with their role and are managed the same way", async () => {
    const { admin, tenantId } = await newTenant();
    const slug = (await db.tenant.findUniqueOrThrow({ where: { id: tenantId } })).slug;
    const email = `sso-${uniq()}@people.test`;
    const sso = await signInWithSso(db, { provider: "sso", subject: `sub-${uniq()}`, email, emailVerified: true, adminEmails: [email], tenantSlug: slug });
    if (!sso.ok) throw new Error(sso.reason);
    const listed = (await listUsers(deps(), admin)).users.find((u) => u.email === email);
    expect(listed).toMatchObject({ role: "admin", sso: true, hasPassword: false, disabledAt: null });
    expect(await changeRole(deps(), admin, { userId: sso.user.id, role: "exec" })).toMatchObject({ ok: true, value: { role: "exec" } });
    expect(await setUserDisabled(deps(), admin, { userId: sso.user.id, disabled: true })).toMatchObject({ ok: true });
    expect(await signInWithSso(db, { provider: "sso", subject: "another", email, emailVerified: true, adminEmails: [], tenantSlug: slug })).toMatchObject({ ok: false, reason: "disabled" });
  });
});

describe("audit log", () => {
  it("records sign-ins (success and failure) in the account's tenant; unknown emails record nothing", async () => {
    const { admin, tenantId } = await newTenant();
    expect(await recordSignIn(db, { email: admin.email.toUpperCase(), ok: true })).toEqual({ recorded: true });
    expect(await recordSignIn(db, { email: admin.email, ok: false, reason: "wrong password" })).toEqual({ recorded: true });
    expect(await recordSignIn(db, { email: `nobody-${uniq()}@people.test`, ok: false })).toEqual({ recorded: false });
    const rows = (await auditOf(tenantId)).filter((r) => r.action.startsWith("sign_in."));
    expect(rows).toEqual([
      { action: "sign_in.succeeded", actorLabel: admin.email, target: admin.email, details: { method: "password" } },
      { action: "sign_in.failed", actorLabel: admin.email, target: admin.email, details: { method: "password", reason: "wrong password" } },
    ]);
  });

  it("records every people and key action through tRPC, lists them in words with filters, and never holds a secret", async () => {
    const { admin, tenantId, password, apiKey } = await newTenant();
    const asAdmin = await callerFor(admin, "admin");
    const secrets: string[] = [password, apiKey, GOOD];

    const inv = await asAdmin.users.invite({ email: `aud-${uniq()}@people.test`, role: "exec" });
    secrets.push(tokenOf(inv.path));
    await acceptLink(deps(), { token: tokenOf(inv.path), password: GOOD });
    const person = (await asAdmin.users.list()).users.find((u) => u.email === inv.email)!;
    await asAdmin.users.changeRole({ userId: person.id, role: "admin" });
    await asAdmin.users.setDisabled({ userId: person.id, disabled: true });
    await asAdmin.users.setDisabled({ userId: person.id, disabled: false });
    const reset = await asAdmin.users.resetPassword({ userId: person.id });
    secrets.push(tokenOf(reset.path));
    const newPassword = "silver-meadow-kite-93";
    secrets.push(newPassword);
    await acceptLink(deps(), { token: tokenOf(reset.path), password: newPassword });
    const withdrawn = await asAdmin.users.invite({ email: `gone-${uniq()}@people.test`, role: "admin" });
    secrets.push(tokenOf(withdrawn.path));
    await asAdmin.users.revokeInvite({ inviteId: withdrawn.id });
    const key = await asAdmin.apiKeys.create({ name: "audit key" });
    // the key and its secret part (aam_<prefix>_<secret>; the secret is base64url, so it may hold "_" too)
    const secretPart = key.key.slice(key.key.indexOf("_", "aam_".length) + 1);
    expect(secretPart.length).toBeGreaterThanOrEqual(20);
    secrets.push(key.key, secretPart);
    await asAdmin.apiKeys.revoke({ id: key.id });
    await asAdmin.connections.healAll({ namespace: "autonomy" });
    await recordSignIn(db, { email: person.email, ok: false, reason: "wrong password" });

    const actions = (await auditOf(tenantId)).map((r) => r.action);
    for (const a of ["tenant.created", "user.invited", "invite.accepted", "user.role_changed", "user.disabled", "user.enabled", "password.reset_requested", "password.reset_completed", "invite.revoked", "api_key.created", "api_key.revoked", "heal.started", "sign_in.failed"]) {
      expect(actions, a).toContain(a);
    }
    const everything = JSON.stringify(await db.auditEvent.findMany({ where: { tenantId } }), (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    for (const s of secrets) expect(everything, "a secret reached the audit log").not.toContain(s);
    const hashes = await db.invite.findMany({ where: { tenantId }, select: { tokenHash: true } });
    for (const h of hashes) expect(everything).not.toContain(h.tokenHash);

    const page = await asAdmin.audit.list({});
    expect(page.entries.length).toBeGreaterThanOrEqual(13);
    expect(page.entries[0]!.label).toBe("Sign-in refused");
    expect(page.entries.find((e) => e.action === "user.role_changed")).toMatchObject({ label: "Changed a role", actorLabel: admin.email, target: person.email, details: { from: "exec", to: "admin" } });
    expect(page.actors).toEqual(expect.arrayContaining([admin.email, person.email]));
    expect((await asAdmin.audit.list({ actor: person.email })).entries.map((e) => e.action).sort()).toEqual(["invite.accepted", "password.reset_completed", "sign_in.failed"]);
    expect((await asAdmin.audit.list({ action: "api_key.created" })).entries).toHaveLength(1);
    // a revoked key is named as when it was created, never by its id alone
    const created = (await asAdmin.audit.list({ action: "api_key.created" })).entries[0]!;
    expect((await asAdmin.audit.list({ action: "api_key.revoked" })).entries[0]).toMatchObject({ target: created.target, details: { key_id: key.id } });
    expect((await asAdmin.audit.list({ action: "user." })).entries.map((e) => e.action).sort()).toEqual(["user.disabled", "user.enabled", "user.invited", "user.invited", "user.role_changed"]);
    expect((await asAdmin.audit.list({ from: new Date(Date.now() + 60_000) })).entries).toEqual([]);
    expect((await asAdmin.audit.list({ to: new Date(Date.now() - 3_600_000) })).entries).toEqual([]);
    const first = await asAdmin.audit.list({ limit: 5 });
    const next = await asAdmin.audit.list({ limit: 5, cursor: first.nextCursor! });
    expect(next.entries[0]!.id < first.entries[4]!.id || BigInt(next.entries[0]!.id) < BigInt(first.entries[4]!.id)).toBe(true);

    // never editable: no procedure changes it, and the database refuses updates and deletes
    expect(Object.keys((await router())._def.procedures).filter((p) => p.startsWith("audit."))).toEqual(["audit.list"]);
    await expect(db.auditEvent.updateMany({ where: { tenantId }, data: { actorLabel: "someone else" } })).rejects.toThrow();
    await expect(db.auditEvent.deleteMany({ where: { tenantId } })).rejects.toThrow();
    expect(await db.auditEvent.count({ where: { tenantId } })).toBeGreaterThanOrEqual(14);
  });

  it("execs get neither the Users nor the Audit procedures", async () => {
    const { admin } = await newTenant();
    const exec = await addPerson(admin, "exec");
    const asExec = await callerFor(exec, "exec");
    await expect(asExec.users.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(asExec.users.invite({ email: "x@y.test", role: "admin" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(asExec.users.changeRole({ userId: exec.id, role: "admin" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(asExec.audit.list({})).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await db.user.findUniqueOrThrow({ where: { id: exec.id } })).role).toBe("exec");
  });

  it("maps refusals to tRPC errors in words (last admin → CONFLICT)", async () => {
    const { admin } = await newTenant();
    await expect((await callerFor(admin, "admin")).users.changeRole({ userId: admin.id, role: "exec" })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/last active admin/) });
    await expect((await callerFor(admin, "admin")).users.changeRole({ userId: "00000000-0000-4000-8000-000000000000", role: "exec" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
