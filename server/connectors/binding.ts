/**
 * From a source type to what the pipeline needs: the catalog entry's driver from the static
 * registry, and for OAuth-based entries the catalog's token URL template and the read-only scopes
 * to request. The template is filled by the credential resolver (credentials/token-endpoint.ts)
 * only with config values that cannot move it to another host; the connection's config never
 * supplies a token URL of its own.
 */
import type { ConnectorBinding } from "../onboarding/pipeline";
import { getCatalogEntry } from "./catalog";
import { getDriver } from "./registry";

export function bindConnector(sourceType: string): ConnectorBinding | undefined {
  const entry = getCatalogEntry(sourceType);
  const adapter = entry ? getDriver(entry.driver) : undefined;
  if (!entry || !adapter) return undefined;
  // sp: uses client credentials: prefer that grant's token endpoint, then any OAuth mode's
  const oauth =
    entry.authModes.find((m) => (m.type === "oauth2" && m.grant === "client_credentials") || (m.type === "service_account" && m.tokenUrl)) ??
    entry.authModes.find((m) => m.type === "oauth2");
  const tokenUrl = oauth && "tokenUrl" in oauth && oauth.tokenUrl ? oauth.tokenUrl : undefined;
  const scopes = oauth && "scopes" in oauth ? oauth.scopes : undefined;
  return { adapter, tokenUrl, scopes };
}
