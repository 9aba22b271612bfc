/**
 * The connector catalog: one declarative entry per allowlisted source type, parsed through the zod
 * schema once at import (a malformed entry fails fast, in CI and at boot). A static registry: no
 * dynamic imports, no files read at runtime.
 */
import { businessEntries } from "./entries/business";
import { cloudEntries } from "./entries/cloud";
import { genericEntries } from "./entries/generic";
import { identityEntries } from "./entries/identity";
import { productivityEntries } from "./entries/productivity";
import { warehouseEntries } from "./entries/warehouse";
import { type CatalogEntry, type CatalogEntryInput, ZCatalogEntry } from "./schema";

/** The entries as written, in the allowlist's category order. */
export const RAW_ENTRIES: readonly CatalogEntryInput[] = [
  ...productivityEntries,
  ...identityEntries,
  ...cloudEntries,
  ...warehouseEntries,
  ...businessEntries,
  ...genericEntries,
];

function build(): Readonly<Record<string, CatalogEntry>> {
  const out: Record<string, CatalogEntry> = {};
  for (const raw of RAW_ENTRIES) {
    const entry = ZCatalogEntry.parse(raw);
    if (Object.hasOwn(out, entry.sourceType)) throw new Error(`duplicate catalog entry ${entry.sourceType}`);
    out[entry.sourceType] = Object.freeze(entry);
  }
  return Object.freeze(out);
}

/** sourceType → parsed entry */
export const CATALOG: Readonly<Record<string, CatalogEntry>> = build();

export function getCatalogEntry(sourceType: string): CatalogEntry | undefined {
  return Object.hasOwn(CATALOG, sourceType) ? CATALOG[sourceType] : undefined;
}

export type { AuthMode, CatalogEntry, CatalogRequest, CatalogStream, Pagination, ReadOnlyPostEntry } from "./schema";
export { isReadOnlyScope, requestedScopes } from "./schema";
