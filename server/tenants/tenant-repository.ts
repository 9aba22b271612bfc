/**
 * Tenants (issue 12): create one with its first admin, one AOD API key and default settings, in
 * one transaction; list; disable (its keys stop working and its users cannot sign in at once; its
 * data stays). The secrets made here are returned once and stored only as hashes.
 */
import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import { generateApiKey } from "../auth/api-keys";
import type { Db } from "../db/client";
import { Prisma } from "../db/client";

export const TENANT_SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

export type CreatedTenant = { tenant_id: string; slug: string; name: string; admin_email: string; admin_password: string; api_key: string };
export type TenantRow = { id: string; slug: string; name: string; createdAt: Date; disabledAt: Date | null; users: number; connections: number };

export class TenantError extends Error {
  constructor(
    readonly code: "SLUG_TAKEN" | "EMAIL_TAKEN" | "NOT_FOUND" | "INVALID",
    message: string,
  ) {
    super(message);
  }
}

export async function createTenant(db: Db, input: { slug: string; name: string; adminEmail: string; sloTarget: number }): Promise<CreatedTenant> {
  const slug = input.slug.trim().toLowerCase();
  const email = input.adminEmail.trim().toLowerCase();
  if (!TENANT_SLUG_RE.test(slug)) throw new TenantError("INVALID", "A tenant slug is 1–40 lower-case letters, digits or '-', starting and ending with a letter or digit.");
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 320) throw new TenantError("INVALID", "The admin email is not an email address.");
  const password = randomBytes(12).toString("base64url");
  const key = generateApiKey();
  const hash = await bcrypt.hash(password, 10);
  try {
    return await db.$transaction(async (tx) => {
      const tenant = await tx.tenant.create({ data: { slug, name: input.name.trim() || slug }, select: { id: true, name: true } });
      const admin = await tx.user.create({ data: { tenantId: tenant.id, email, name: "Admin", role: "admin", passwordHash: hash }, select: { id: true } });
      await tx.apiKey.create({ data: { tenantId: tenant.id, name: "AOD", prefix: key.prefix, hash: key.hash } });
      // Safe Mode on with the default caps, and the SLO target, for the namespace AOD writes to
      await tx.setting.create({ data: { tenantId: tenant.id, namespace: "autonomy", sloTarget: input.sloTarget } });
      await tx.auditEvent.create({ data: { tenantId: tenant.id, actorId: null, actorLabel: "operator (npm run tenants)", action: "tenant.created", target: slug, details: { admin: email, admin_id: admin.id } } });
      return { tenant_id: tenant.id, slug, name: tenant.name, admin_email: email, admin_password: password, api_key: key.key };
    });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      const target = JSON.stringify(e.meta ?? {});
      if (target.includes("email")) throw new TenantError("EMAIL_TAKEN", `A user with the email ${email} already exists (emails are unique across tenants).`);
      throw new TenantError("SLUG_TAKEN", `A tenant with the slug "${slug}" already exists.`);
    }
    throw e;
  }
}

export async function listTenants(db: Db): Promise<TenantRow[]> {
  const rows = await db.tenant.findMany({
    orderBy: { createdAt: "asc" },
    select: { id: true, slug: true, name: true, createdAt: true, disabledAt: true, _count: { select: { users: true, connections: true } } },
  });
  return rows.map(({ _count, ...r }) => ({ ...r, users: _count.users, connections: _count.connections }));
}

/** Disables (or, with `enable`, re-enables) a tenant. Returns the tenant, or throws NOT_FOUND. */
export async function setTenantDisabled(db: Db, slug: string, disabled: boolean): Promise<{ id: string; slug: string; disabledAt: Date | null }> {
  const r = await db.tenant.updateManyAndReturn({ where: { slug: slug.trim().toLowerCase() }, data: { disabledAt: disabled ? new Date() : null }, select: { id: true, slug: true, disabledAt: true } });
  if (!r[0]) throw new TenantError("NOT_FOUND", `There is no tenant with the slug "${slug}".`);
  await db.auditEvent.create({ data: { tenantId: r[0].id, actorLabel: "operator (npm run tenants)", action: disabled ? "tenant.disabled" : "tenant.enabled", target: r[0].slug } });
  return r[0];
}
