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
    select: { id: true, email: true, name: true, role: true, tenantId: true, passwordHash: true },
  });
  const ok = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !user.passwordHash || !ok) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role, tenantId: user.tenantId };
}
