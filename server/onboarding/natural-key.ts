/**
 * The idempotency key of a connection (DESIGN.md): (tenant, namespace, source_type, sorted unique
 * resource_ids). resource_ids are stored sorted; resource_key is a fixed-size digest of them so the
 * unique index stays small whatever AOD sends.
 */
import { createHash } from "node:crypto";

export function normalizeResourceIds(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort();
}

export function resourceKey(ids: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(normalizeResourceIds(ids))).digest("hex");
}
