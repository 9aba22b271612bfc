/** API keys per tenant. Hashes never leave this module. */
import type { Db } from "../db/client";
import { lru, type Lru } from "../lib/lru";
import { generateApiKey, parseApiKey, secretMatches } from "./api-keys";

export type ApiKeyRow = { id: string; name: string; prefix: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null };

export async function listApiKeys(db: Db, tenantId: string): Promise<ApiKeyRow[]> {
  return db.apiKey.findMany({
    where: { tenantId },
    orderBy: { createdAt: "desc" },
    select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
}

/**
 * Per-process caches, per database client. An unknown prefix costs no query of its own: the set
 * of live prefixes is re-read on a miss at most every PREFIX_RELOAD_MS (one query shared by all
 * callers), so a flood of random keys costs at most four queries a second, and a key created
 * by another process (a CLI) is found within that time. A found key's row is reused for at most
 * KEY_ROW_TTL_MS, so a key revoked (or a tenant disabled) by any process stops within a second.
 */
export const KEY_ROW_TTL_MS = 500;
export const PREFIX_RELOAD_MS = 250;
const MAX_CACHED_ROWS = 10_000;

type KeyRow = { id: string; tenantId: string; hash: string; revokedAt: Date | null; lastUsedAt: Date | null; tenant: { disabledAt: Date | null } };
type KeyCache = { rows: Lru<string, { at: number; row: KeyRow | null }>; prefixes?: { at: number; set: Set<string> }; loading?: Promise<Set<string>> };
const caches = new WeakMap<Db, KeyCache>();

function cacheOf(db: Db): KeyCache {
  let c = caches.get(db);
  if (!c) caches.set(db, (c = { rows: lru(MAX_CACHED_ROWS) }));
  return c;
}

async function isLivePrefix(db: Db, c: KeyCache, prefix: string): Promise<boolean> {
  if (c.prefixes?.set.has(prefix)) return true;
  if (c.prefixes && Date.now() - c.prefixes.at < PREFIX_RELOAD_MS) return false;
  return (await reloadPrefixes(db, c)).has(prefix);
}

function reloadPrefixes(db: Db, c: KeyCache): Promise<Set<string>> {
  c.loading ??= db.apiKey
    .findMany({ where: { revokedAt: null }, select: { prefix: true } })
    .then((rows) => {
      const set = new Set(rows.map((r) => r.prefix));
      c.prefixes = { at: Date.now(), set };
      return set;
    })
    .finally(() => {
      c.loading = undefined;
    });
  return c.loading;
}

async function keyRow(db: Db, c: KeyCache, prefix: string): Promise<KeyRow | null> {
  const hit = c.rows.get(prefix);
  if (hit && Date.now() - hit.at < KEY_ROW_TTL_MS) return hit.row;
  const row = await db.apiKey.findUnique({
    where: { prefix },
    select: { id: true, tenantId: true, hash: true, revokedAt: true, lastUsedAt: true, tenant: { select: { disabledAt: true } } },
  });
  c.rows.set(prefix, { at: Date.now(), row });
  return row;
}

/** The tenant a bearer key belongs to, or null. Records the last use (at most once a minute). */
export async function authenticateApiKey(db: Db, bearer: string): Promise<{ tenantId: string; keyId: string } | null> {
  const parsed = parseApiKey(bearer);
  if (!parsed) return null;
  const c = cacheOf(db);
  if (!(await isLivePrefix(db, c, parsed.prefix))) return null;
  const row = await keyRow(db, c, parsed.prefix);
  // a disabled tenant's keys stop working at once (`npm run tenants -- disable`)
  if (!row || row.revokedAt || row.tenant.disabledAt || !secretMatches(parsed.secret, row.hash)) return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    row.lastUsedAt = new Date();
    await db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: row.lastUsedAt } });
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
  cacheOf(db).prefixes?.set.add(k.prefix); // usable at once in this process; elsewhere within a second
  return { key: k.key, row };
}

/** Revokes a key of this tenant: its name and prefix (for the audit log), or null when there is no such active key. */
export async function revokeApiKey(db: Db, tenantId: string, id: string): Promise<{ name: string; prefix: string } | null> {
  const rows = await db.apiKey.updateManyAndReturn({ where: { id, tenantId, revokedAt: null }, data: { revokedAt: new Date() }, select: { name: true, prefix: true } });
  cacheOf(db).rows.clear(); // at once in this process; other processes within KEY_ROW_TTL_MS
  return rows[0] ?? null;
}
