/** HTTP drivers (declarative REST, Salesforce, OpenAPI), keyed by the driver name the catalog uses. */
import type { SourceAdapter } from "../types";

export const httpDrivers: Record<string, SourceAdapter> = {};
