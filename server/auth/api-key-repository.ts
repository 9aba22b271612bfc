/** API keys per tenant. Hashes never leave this module. */
import type { Db } from "../db/client";
import { parseApiKey, secretMatches } from "./api-keys";

export type ApiKeyRow = { id: string; name: string; prefix: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null };

export async function listApiKeys(db: Db, tenantId: string): Promise<ApiKeyRow[]> {
  return db.apiKey.findMany({
    where: { tenantId },
    orderBy: { createdAt: "desc" },
    select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
}

/** The tenant a bearer key belongs to, or null. Records the last use (at most once a minute). */
export async function authenticateApiKey(db: Db, bearer: string): Promise<{ tenantId: string; keyId: string } | null> {
  const parsed = parseApiKey(bearer);
  if (!parsed) return null;
  const row = await db.apiKey.findUnique({ where: { prefix: parsed.prefix }, select: { id: true, tenantId: true, hash: true, revokedAt: true, lastUsedAt: true } });
  if (!row || row.revokedAt || !secretMatches(parsed.secret, row.hash)) return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
  }
  return { tenantId: row.tenantId, keyId: row.id };
}
