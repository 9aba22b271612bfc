/**
 * For unit tests of drivers against local servers: a grant that approves loopback (any port, any
 * source type), as an admin would approve a test server. Never used by the product's wiring.
 */
import type { DestinationGrant } from "./destinations";

export const LOOPBACK_APPROVED: DestinationGrant = {
  catalogHosts: [],
  hosts: ["127.0.0.1", "::1", "localhost"].map((pattern) => ({ pattern, ports: [], sourceTypes: [], origin: "approved" as const })),
  folders: [],
  forbiddenFolders: [],
};
