/**
 * Builds the DestinationGrant of one attempt (safe-mode/destinations.ts): the catalog entry's
 * vendor hosts filled with the connection's validated config, the tenant's approved destinations
 * for the source type, and the sandbox endpoints while the sandboxes run. The app's data folder is
 * always forbidden. Approved rows are cached per tenant for a moment (they are read on every
 * attempt); `invalidate` drops a tenant's entry at once after an admin changes them.
 */
import { getCatalogEntry } from "../connectors/catalog";
import { effectiveConfig, interpolate } from "../connectors/catalog/interpolate";
import { NO_DESTINATIONS, sandboxRules, type DestinationGrant, type FolderRule, type HostRule } from "../connectors/safe-mode/destinations";
import type { Db } from "../db/client";
import { lru } from "../lib/lru";
import { listApprovedDestinations } from "./destination-repository";

/** A template that is nothing but a variable (`{{config.host}}`) would let the intent name any host: it never counts as a vendor host. */
const WHOLLY_VARIABLE = /^(\*\.)?\{\{\s*config\.[A-Za-z0-9_]+\s*\}\}(:\d+)?$/;

export function catalogHostsFor(sourceType: string, config: Record<string, unknown>): string[] {
  const entry = getCatalogEntry(sourceType);
  if (!entry) return [];
  const vars = { config: effectiveConfig(entry, config) };
  const out: string[] = [];
  for (const t of entry.allowedHosts) {
    if (WHOLLY_VARIABLE.test(t)) continue;
    try {
      const h = interpolate(t, vars).toLowerCase();
      // a filled-in label must stay one DNS label: no dots, slashes or wildcards smuggled in
      if (t.includes("{{") && !/^[a-z0-9*.:-]+$/.test(h)) continue;
      const fixed = t.replace(/\{\{[^}]+\}\}/g, "");
      if (t.includes("{{") && h.split(".").length !== fixed.split(".").length) continue;
      out.push(h);
    } catch {
      /* an unset optional variable contributes no host */
    }
  }
  return out;
}

/**
 * The hosts the catalog names for a connector exactly: no wildcard (`*.zendesk.com` is every
 * customer's instance), nothing filled in from the connection's config. Where a secret the install
 * shares with every organisation may go outside the install's own (pipeline.ts).
 */
export function namedCatalogHosts(sourceType: string): string[] {
  const entry = getCatalogEntry(sourceType);
  return entry ? entry.allowedHosts.filter((t) => !t.includes("{{") && !t.includes("*")).map((t) => t.toLowerCase()) : [];
}

export type DestinationLoader = {
  (tenantId: string, sourceType: string, config: Record<string, unknown>): Promise<DestinationGrant>;
  invalidate(tenantId?: string): void;
};

/** Tenants whose approved destinations are cached per process; LRU past it. */
export const MAX_CACHED_TENANTS = 10_000;

export function createDestinationLoader(db: Db, opts: { sandboxEndpoints?: Record<string, string>; dataDir?: string; ttlMs?: number; maxTenants?: number } = {}): DestinationLoader {
  const ttl = opts.ttlMs ?? 2_000;
  const cache = lru<string, { at: number; hosts: HostRule[]; folders: FolderRule[] }>(opts.maxTenants ?? MAX_CACHED_TENANTS);
  const sandbox = sandboxRules(opts.sandboxEndpoints);
  const load = async (tenantId: string, sourceType: string, config: Record<string, unknown>): Promise<DestinationGrant> => {
    let hit = cache.get(tenantId);
    if (!hit || Date.now() - hit.at > ttl) {
      const rows = await listApprovedDestinations(db, tenantId);
      hit = {
        at: Date.now(),
        hosts: rows.filter((r) => r.kind === "host").map((r) => ({ pattern: r.pattern, ports: r.ports, sourceTypes: r.sourceTypes, origin: "approved" as const })),
        folders: rows.filter((r) => r.kind === "folder").map((r) => ({ path: r.pattern, sourceTypes: r.sourceTypes, origin: "approved" as const })),
      };
      cache.set(tenantId, hit);
    }
    return {
      catalogHosts: catalogHostsFor(sourceType, config),
      hosts: [...sandbox.hosts, ...hit.hosts],
      folders: [...sandbox.folders, ...hit.folders],
      forbiddenFolders: opts.dataDir ? [opts.dataDir] : [],
    };
  };
  const invalidate = (tenantId?: string): void => {
    if (tenantId) cache.delete(tenantId);
    else cache.clear();
  };
  return Object.assign(load, { invalidate });
}

/** Only the catalog's vendor hosts (what a connection gets when nothing else is wired). */
export async function catalogOnlyDestinations(_tenantId: string, sourceType: string, config: Record<string, unknown>): Promise<DestinationGrant> {
  return { ...NO_DESTINATIONS, catalogHosts: catalogHostsFor(sourceType, config) };
}
