/** API keys per tenant. Hashes never leave this module. */
import type { Db } from "../db/client";
import { generateApiKey, parseApiKey, secretMatches } from "./api-keys";

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
  const row = await db.apiKey.findUnique({
    where: { prefix: parsed.prefix },
    select: { id: true, tenantId: true, hash: true, revokedAt: true, lastUsedAt: true, tenant: { select: { disabledAt: true } } },
  });
  // a disabled tenant's keys stop working at once (`npm run tenants -- disable`)
  if (!row || row.revokedAt || row.tenant.disabledAt || !secretMatches(parsed.secret, row.hash)) return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
  }
  return { tenantId: row.tenantId, keyId: row.id };
}

/** Creates a key for AOD; the full key is returned once and never stored. */
export async function createApiKey(db: Db, tenantId: string, name: string): Promise<{ key: string; row: ApiKeyRow }> {
  const k = generateApiKey();
  const row = await db.apiKey.create({
    data: { tenantId, name, prefix: k.prefix, hash: k.hash },
    select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
  return { key: k.key, row };
}

/** Revokes a key of this tenant; false when there is no such active key. */
export async function revokeApiKey(db: Db, tenantId: string, id: string): Promise<boolean> {
  const r = await db.apiKey.updateMany({ where: { id, tenantId, revokedAt: null }, data: { revokedAt: new Date() } });
  return r.count === 1;
}
