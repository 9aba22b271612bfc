/** Users for sign-in. Returns plain data; never the hash outside this module. */
import bcrypt from "bcryptjs";
import type { Db } from "../db/client";

export type Role = "admin" | "exec";
export type SessionUser = { id: string; email: string; name: string | null; role: Role; tenantId: string };

// A real bcrypt hash of a random value: unknown emails cost the same time as wrong passwords.
const DUMMY_HASH = "$2b$10$CwTycUXWue0Thq9StjUM0uJ8.dwZ5Q6s6G7b8n8yCq2bM3b2o4l5e";

export async function verifyPassword(db: Db, email: string, password: string): Promise<SessionUser | null> {
  const user = await db.user.findUnique({
    where: { email: email.trim().toLowerCase() },
    select: { id: true, email: true, name: true, role: true, tenantId: true, passwordHash: true, disabledAt: true, tenant: { select: { disabledAt: true } } },
  });
  const ok = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
  // disabled users, and every user of a disabled tenant, cannot sign in
  if (!user || !user.passwordHash || !ok || user.disabledAt || user.tenant.disabledAt) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role, tenantId: user.tenantId };
}

/**
 * A user signing in through single sign-on: the existing account with that email, or a new one
 * in the default tenant (admin when listed in SSO_ADMIN_EMAILS, else exec). Roles of existing
 * users are never changed by SSO.
 */
export async function provisionSsoUser(db: Db, input: { email: string; name?: string | null; adminEmails: readonly string[]; tenantSlug: string }): Promise<SessionUser | null> {
  const email = input.email.trim().toLowerCase();
  const existing = await db.user.findUnique({ where: { email }, select: { id: true, email: true, name: true, role: true, tenantId: true, disabledAt: true, tenant: { select: { disabledAt: true } } } });
  if (existing) {
    if (existing.disabledAt || existing.tenant.disabledAt) return null;
    return { id: existing.id, email: existing.email, name: existing.name, role: existing.role, tenantId: existing.tenantId };
  }
  const tenant = await db.tenant.findUnique({ where: { slug: input.tenantSlug }, select: { id: true } });
  if (!tenant) return null;
  const role: Role = input.adminEmails.includes(email) ? "admin" : "exec";
  try {
    return await db.user.create({ data: { email, name: input.name ?? null, role, tenantId: tenant.id }, select: { id: true, email: true, name: true, role: true, tenantId: true } });
  } catch {
    // two first sign-ins at once: the other one created it
    return db.user.findUnique({ where: { email }, select: { id: true, email: true, name: true, role: true, tenantId: true } });
  }
}
