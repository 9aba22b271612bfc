/** Users for sign-in and sessions. Returns plain data; never the hash outside this module. */
import type { Db } from "../db/client";
import { dummyHash, hashPassword, needsRehash, verifyPasswordHash } from "./passwords";

export type Role = "admin" | "exec";
export type SessionUser = { id: string; email: string; name: string | null; role: Role; tenantId: string; sessionVersion: number };

const SESSION_USER = { id: true, email: true, name: true, role: true, tenantId: true, sessionVersion: true } as const;

export async function verifyPassword(db: Db, email: string, password: string): Promise<SessionUser | null> {
  const user = await db.user.findUnique({
    where: { email: email.trim().toLowerCase() },
    select: { ...SESSION_USER, passwordHash: true, disabledAt: true, tenant: { select: { disabledAt: true } } },
  });
  const ok = await verifyPasswordHash(password, user?.passwordHash ?? (await dummyHash()));
  // disabled users, and every user of a disabled tenant, cannot sign in
  if (!user || !user.passwordHash || !ok || user.disabledAt || user.tenant.disabledAt) return null;
  if (needsRehash(user.passwordHash)) {
    // bcrypt from before: upgrade to scrypt now that we know the password (only if unchanged meanwhile)
    await db.user.updateMany({ where: { id: user.id, passwordHash: user.passwordHash }, data: { passwordHash: await hashPassword(password) } });
  }
  return { id: user.id, email: user.email, name: user.name, role: user.role, tenantId: user.tenantId, sessionVersion: user.sessionVersion };
}

/** What a session must agree with, re-read while it lasts: null when the user is gone. */
export type SessionState = { role: Role; tenantId: string; sessionVersion: number; active: boolean };

export async function readSessionState(db: Db, userId: string): Promise<SessionState | null> {
  const u = await db.user.findUnique({ where: { id: userId }, select: { role: true, tenantId: true, sessionVersion: true, disabledAt: true, tenant: { select: { disabledAt: true } } } });
  return u ? { role: u.role, tenantId: u.tenantId, sessionVersion: u.sessionVersion, active: !u.disabledAt && !u.tenant.disabledAt } : null;
}

/** "Sign out everywhere": every session signed before this ends. Returns the new version. */
export async function bumpSessionVersion(db: Db, userId: string): Promise<number> {
  const u = await db.user.update({ where: { id: userId }, data: { sessionVersion: { increment: 1 } }, select: { sessionVersion: true } });
  return u.sessionVersion;
}

export type SsoIdentity = { subject: string; email: string; emailVerified: boolean; name?: string | null };
export type SsoOutcome = { ok: true; user: SessionUser } | { ok: false; reason: "email_not_verified" | "disabled" | "no_tenant" };

/**
 * A user signing in through single sign-on. An identity already linked (provider `sso`, the
 * IdP's subject) is that user. Otherwise the IdP's email is trusted only when the IdP says it is
 * verified: then it links to the local account with that email, or creates one in the default
 * tenant (admin when listed in SSO_ADMIN_EMAILS, else exec). Roles of existing users are never
 * changed by SSO; disabled users and users of disabled tenants are refused.
 */
export async function signInWithSso(
  db: Db,
  input: { provider: string; subject: string; email: string; emailVerified: boolean; name?: string | null; adminEmails: readonly string[]; tenantSlug: string },
): Promise<SsoOutcome> {
  const select = { ...SESSION_USER, disabledAt: true, tenant: { select: { disabledAt: true } } } as const;
  const usable = (u: { disabledAt: Date | null; tenant: { disabledAt: Date | null } } & SessionUser): SsoOutcome =>
    u.disabledAt || u.tenant.disabledAt ? { ok: false, reason: "disabled" } : { ok: true, user: { id: u.id, email: u.email, name: u.name, role: u.role, tenantId: u.tenantId, sessionVersion: u.sessionVersion } };
  const linked = await db.account.findUnique({ where: { provider_providerAccountId: { provider: input.provider, providerAccountId: input.subject } }, select: { user: { select } } });
  if (linked) return usable(linked.user);
  if (!input.emailVerified) return { ok: false, reason: "email_not_verified" };
  const email = input.email.trim().toLowerCase();
  const link = (userId: string) =>
    db.account
      .create({ data: { userId, type: "oidc", provider: input.provider, providerAccountId: input.subject } })
      .catch(() => undefined); // two first sign-ins at once: the other one linked it
  const existing = await db.user.findUnique({ where: { email }, select });
  if (existing) {
    const out = usable(existing);
    if (out.ok) await link(existing.id);
    return out;
  }
  const tenant = await db.tenant.findUnique({ where: { slug: input.tenantSlug }, select: { id: true, disabledAt: true } });
  if (!tenant) return { ok: false, reason: "no_tenant" };
  if (tenant.disabledAt) return { ok: false, reason: "disabled" };
  const role: Role = input.adminEmails.includes(email) ? "admin" : "exec";
  let created: SessionUser | null;
  try {
    created = await db.user.create({ data: { email, name: input.name ?? null, role, tenantId: tenant.id, emailVerified: new Date() }, select: SESSION_USER });
  } catch {
    // two first sign-ins at once: the other one created it
    created = await db.user.findUnique({ where: { email }, select: SESSION_USER });
  }
  if (!created) return { ok: false, reason: "no_tenant" };
  await link(created.id);
  return { ok: true, user: created };
}
