/**
 * Config fields several entries share. Every REST entry accepts `base_url`: a running sandbox
 * (`sandbox:<name>`), the vendor's own alternative base (Atlassian 3LO's api.atlassian.com), or a
 * self-hosted/proxy URL — which the destination grant permits only when the tenant approved it.
 */
import type { z } from "zod";
import type { ZConfigField } from "../schema";

type Field = z.input<typeof ZConfigField>;

export const BASE_URL: Field = {
  name: "base_url",
  description: "API base URL instead of the vendor's (a running sandbox `sandbox:<name>`, or a host the tenant approved)",
  format: "url",
  maxLength: 2048,
  sandboxRef: true,
  destination: true,
  example: "sandbox:http",
};

/** PostgreSQL-protocol sources (postgres, supabase, redshift): what sql-target.ts and sql-session.ts read. */
export function sqlFields(defaultPort: number, opts: { hostRequired?: boolean; database?: string } = {}): Field[] {
  return [
    { name: "host", description: "database host (not a vendor host: the tenant approves it)", format: "host", maxLength: 253, destination: true, sandboxRef: true, ...(opts.hostRequired ? { required: true, example: "db.example.com" } : {}) },
    { name: "port", description: "port", type: "integer", min: 1, max: 65535, default: defaultPort },
    { name: "database", description: "database", format: "identifier", maxLength: 63, ...(opts.database ? { default: opts.database } : {}) },
    { name: "user", description: "database user (the password stays behind credential_locator)", format: "identifier", maxLength: 63 },
    { name: "schema", description: "schema to inventory", format: "user_schema", maxLength: 63, default: "public" },
    { name: "schemas", description: "schemas to inventory", type: "string_list", format: "user_schema", maxLength: 63, maxItems: 20, example: ["public"] },
    { name: "ssl", description: "require TLS (true) or disable it (false); default: the server's", type: "boolean" },
  ];
}
