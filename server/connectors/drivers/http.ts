/** HTTP drivers (declarative REST, Salesforce, OpenAPI), keyed by the driver name the catalog uses. */
import type { SourceAdapter } from "../types";
import { openApiDriver } from "./openapi";
import { restDriver } from "./rest";
import { salesforceDriver } from "./salesforce";

export const httpDrivers: Record<string, SourceAdapter> = {
  rest: restDriver,
  salesforce: salesforceDriver,
  openapi: openApiDriver,
};
