/**
 * From a source type to what the pipeline needs: the catalog entry's driver from the static
 * registry, and for OAuth-based entries the token URL (when it needs no per-connection config)
 * and the read-only scopes to request.
 */
import type { ConnectorBinding } from "../onboarding/pipeline";
import { getCatalogEntry } from "./catalog";
import { getDriver } from "./registry";

export function bindConnector(sourceType: string): ConnectorBinding | undefined {
  const entry = getCatalogEntry(sourceType);
  const adapter = entry ? getDriver(entry.driver) : undefined;
  if (!entry || !adapter) return undefined;
  const oauth = entry.authModes.find((m) => m.type === "oauth2" || (m.type === "service_account" && m.tokenUrl));
  const tokenUrl = oauth && "tokenUrl" in oauth && oauth.tokenUrl && !oauth.tokenUrl.includes("{{") ? oauth.tokenUrl : undefined;
  const scopes = oauth && "scopes" in oauth ? oauth.scopes : undefined;
  return { adapter, tokenUrl, scopes };
}
