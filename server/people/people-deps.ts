/** What the people use-cases need: the database, a clock (tests move it) and the password hasher. */
import bcrypt from "bcryptjs";
import type { AuditActor } from "../audit/audit-repository";
import type { Db } from "../db/client";

export type PeopleDeps = { db: Db; now?: () => Date; hashPassword?: (password: string) => Promise<string> };
/** The admin acting: their user id, tenant and email (the audit log's "who"). */
export type Admin = { id: string; tenantId: string; email: string };

export const nowOf = (deps: PeopleDeps) => (deps.now ? deps.now() : new Date());

// bcrypt (cost 10) as the seed and `npm run tenants` hash today; sign-in verifies it (and may
// upgrade the hash to the current scheme at the next successful sign-in).
export const hashOf = (deps: PeopleDeps, password: string) => (deps.hashPassword ? deps.hashPassword(password) : bcrypt.hash(password, 10));

export const actorOf = (a: Admin): AuditActor => ({ id: a.id, label: a.email });
