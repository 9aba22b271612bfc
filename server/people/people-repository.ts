/**
 * The people of a tenant: users (local and single sign-on) and their invite / password-reset
 * links. The only module under server/people that touches Prisma. Every read and write is
 * scoped by tenant id; password hashes and token hashes never leave this module.
 *
 * Changes that must keep "at least one active admin" run in `withTenantLock`: a transaction that
 * first locks the tenant's row, so two concurrent demotions (or disables) of the last two admins
 * are serialized and the second one sees the first.
 */
import type { Db, Prisma } from "../db/client";
import type { Role } from "../auth/user-repository";
import type { LinkKind } from "./tokens";

/** A transaction handle: repository functions take it or the client alike. */
export type PeopleDb = Db | Prisma.TransactionClient;

export type PersonRow = {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  disabledAt: Date | null;
  createdAt: Date;
  /** has a local password (invite accepted, seeded, or reset) */
  hasPassword: boolean;
  /** signs in through single sign-on (a linked identity) */
  sso: boolean;
};

export type OpenLinkRow = { id: string; kind: LinkKind; email: string; role: Role; userId: string | null; expiresAt: Date; createdBy: string; createdAt: Date };

export type LinkRow = OpenLinkRow & {
  tenantId: string;
  tenantName: string;
  tenantDisabled: boolean;
  usedAt: Date | null;
  revokedAt: Date | null;
  /** the user a reset link is for: null when gone */
  user: { id: string; email: string; disabledAt: Date | null } | null;
};

const PERSON = { id: true, email: true, name: true, role: true, disabledAt: true, createdAt: true, passwordHash: true, _count: { select: { accounts: true } } } as const;
type PersonSelected = { id: string; email: string; name: string | null; role: Role; disabledAt: Date | null; createdAt: Date; passwordHash: string | null; _count: { accounts: number } };
const toPerson = ({ passwordHash, _count, ...u }: PersonSelected): PersonRow => ({ ...u, hasPassword: passwordHash !== null, sso: _count.accounts > 0 });

export async function listPeople(db: PeopleDb, tenantId: string): Promise<PersonRow[]> {
  const rows = await db.user.findMany({ where: { tenantId }, orderBy: [{ createdAt: "asc" }, { email: "asc" }], select: PERSON });
  return rows.map(toPerson);
}

export async function findPerson(db: PeopleDb, tenantId: string, userId: string): Promise<PersonRow | null> {
  const u = await db.user.findFirst({ where: { id: userId, tenantId }, select: PERSON });
  return u ? toPerson(u) : null;
}

/** Whether any tenant has a user with this email (emails are unique across tenants). */
export async function emailTaken(db: PeopleDb, email: string): Promise<boolean> {
  return (await db.user.count({ where: { email } })) > 0;
}

/** The user with this email, in whichever tenant: for recording sign-ins. */
export async function findUserForSignIn(db: PeopleDb, email: string): Promise<{ id: string; tenantId: string; email: string } | null> {
  return db.user.findUnique({ where: { email }, select: { id: true, tenantId: true, email: true } });
}

export async function countActiveAdmins(db: PeopleDb, tenantId: string): Promise<number> {
  return db.user.count({ where: { tenantId, role: "admin", disabledAt: null } });
}

export async function updateRole(db: PeopleDb, tenantId: string, userId: string, role: Role): Promise<void> {
  await db.user.updateMany({ where: { id: userId, tenantId }, data: { role } });
}

/** Disabling also bumps the session version, so sessions signed before it end at their next check. */
export async function updateDisabled(db: PeopleDb, tenantId: string, userId: string, disabled: boolean): Promise<void> {
  await db.user.updateMany({
    where: { id: userId, tenantId },
    data: disabled ? { disabledAt: new Date(), sessionVersion: { increment: 1 } } : { disabledAt: null },
  });
}

/** A new password; every session signed before it ends (session version bumped). */
export async function updatePasswordHash(db: PeopleDb, tenantId: string, userId: string, passwordHash: string): Promise<void> {
  await db.user.updateMany({ where: { id: userId, tenantId }, data: { passwordHash, sessionVersion: { increment: 1 } } });
}

export async function createUser(db: PeopleDb, data: { tenantId: string; email: string; role: Role; passwordHash: string }): Promise<{ id: string }> {
  return db.user.create({ data: { ...data, emailVerified: new Date() }, select: { id: true } });
}

/** Locks the tenant's row for the transaction: changes to its admins are serialized. */
export async function withTenantLock<T>(db: Db, tenantId: string, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${tenantId}::uuid FOR UPDATE`;
    return fn(tx);
  });
}

export async function inTransaction<T>(db: Db, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return db.$transaction(fn);
}

// ---- invite and reset links ----

const OPEN_LINK = { id: true, kind: true, email: true, role: true, userId: true, expiresAt: true, createdBy: true, createdAt: true } as const;

export async function insertLink(
  db: PeopleDb,
  data: { tenantId: string; kind: LinkKind; email: string; role: Role; userId?: string | null; tokenHash: string; expiresAt: Date; createdById: string | null; createdBy: string },
): Promise<OpenLinkRow> {
  const r = await db.invite.create({ data, select: OPEN_LINK });
  return { ...r, kind: r.kind as LinkKind };
}

/** Revokes the open links of one kind for an email (a new invite) or a user (a new reset link). */
export async function revokeOpenLinks(db: PeopleDb, tenantId: string, where: { kind: LinkKind; email?: string; userId?: string }): Promise<number> {
  const r = await db.invite.updateMany({ where: { tenantId, ...where, usedAt: null, revokedAt: null }, data: { revokedAt: new Date() } });
  return r.count;
}

/** Revokes one open link of this tenant; null when there is no such open link. */
export async function revokeLink(db: PeopleDb, tenantId: string, id: string): Promise<OpenLinkRow | null> {
  const rows = await db.invite.updateManyAndReturn({ where: { id, tenantId, usedAt: null, revokedAt: null }, data: { revokedAt: new Date() }, select: OPEN_LINK });
  return rows[0] ? { ...rows[0], kind: rows[0].kind as LinkKind } : null;
}

/** How many open invites the Users page lists (the newest); listOpenInvites counts them all. */
export const OPEN_INVITES_LISTED = 200;

/** Invites not yet used or revoked (expired ones too: the page says so): the newest OPEN_INVITES_LISTED, and how many there are. */
export async function listOpenInvites(db: PeopleDb, tenantId: string): Promise<{ invites: OpenLinkRow[]; total: number }> {
  const where = { tenantId, kind: "invite", usedAt: null, revokedAt: null };
  const [rows, total] = await Promise.all([db.invite.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "asc" }], take: OPEN_INVITES_LISTED, select: OPEN_LINK }), db.invite.count({ where })]);
  return { invites: rows.map((r) => ({ ...r, kind: r.kind as LinkKind })), total: Math.max(total, rows.length) };
}

export async function findLinkByTokenHash(db: PeopleDb, tokenHash: string): Promise<LinkRow | null> {
  const r = await db.invite.findUnique({
    where: { tokenHash },
    select: { ...OPEN_LINK, tenantId: true, usedAt: true, revokedAt: true, tenant: { select: { name: true, disabledAt: true } }, user: { select: { id: true, email: true, disabledAt: true } } },
  });
  if (!r) return null;
  const { tenant, ...rest } = r;
  return { ...rest, kind: r.kind as LinkKind, tenantName: tenant.name, tenantDisabled: tenant.disabledAt !== null };
}

/** Marks a link used if it still is open and unexpired; false when another request used it first. */
export async function consumeLink(db: PeopleDb, id: string, now: Date): Promise<boolean> {
  const r = await db.invite.updateMany({ where: { id, usedAt: null, revokedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
  return r.count === 1;
}
