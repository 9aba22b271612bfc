/** Generic / flexible: OpenAPI-described HTTP APIs, JDBC (MySQL/MariaDB), MongoDB, PostgreSQL, Supabase, files. */
import type { CatalogEntryInput } from "../schema";
import { sqlFields } from "./fields";

export const genericEntries: CatalogEntryInput[] = [
  {
    sourceType: "openapi",
    displayName: "Any OpenAPI-described REST API",
    category: "generic",
    driver: "openapi",
    docsUrl: "https://spec.openapis.org/oas/v3.1.0",
    authModes: [
      { type: "bearer", secretField: "token", header: "Authorization", prefix: "Bearer " },
      { type: "api_key", headers: [{ name: "X-API-Key", secretField: "api_key", prefix: "" }], refs: { header: { url: "https://spec.openapis.org/oas/v3.1.0", section: "4.8.27 Security Scheme Object: apiKey in header (the document names the header; X-API-Key when it does not)" } } },
      { type: "none" },
    ],
    configFields: [
      // an OpenAPI source lives on the customer's (or a vendor's) own host: the tenant approves the hosts of spec_url, base_url and the document's servers
      { name: "spec_url", description: "URL of the OpenAPI 3 / Swagger 2 document (JSON or YAML)", format: "url", maxLength: 2048, destination: true, sandboxRef: true, example: "sandbox:openapi/openapi.json" },
      { name: "spec", description: "the document inline (JSON or YAML text)", maxLength: 16_000 },
      { name: "base_url", description: "API base URL (default: the spec's first server)", format: "url", maxLength: 2048, destination: true, sandboxRef: true },
      { name: "api_key_header", description: "header for api_key auth when the spec does not name one", format: "header_name", maxLength: 64 },
    ],
    secrets: ["token", "api_key"],
    notes: "Only GET operations without required path or query parameters are used; every request still goes through the egress guard.",
  },
  {
    sourceType: "jdbc",
    displayName: "JDBC / MySQL-compatible database",
    category: "generic",
    driver: "jdbc",
    docsUrl: "https://dev.mysql.com/doc/refman/8.4/en/",
    authModes: [{ type: "connection_string", secretField: "dsn", grants: ["SELECT", "SHOW VIEW"], refs: { scopes: { url: "https://dev.mysql.com/doc/refman/8.4/en/show-create-view.html", section: "SHOW CREATE VIEW Statement: requires the SHOW VIEW privilege and the SELECT privilege for the view" } } }],
    configFields: [
      ...sqlFields(3306).filter((f) => f.name !== "schema" && f.name !== "database"),
      { name: "database", description: "schema to inventory", format: "identifier", maxLength: 64 },
      // engines the jdbc driver speaks (drivers/jdbc.ts) when the secret carries no URL
      { name: "engine", description: "database engine when the secret has no URL", type: "enum", values: ["mysql", "mariadb", "postgresql", "postgres"] },
    ],
    secrets: ["dsn", "password"],
  },
  {
    sourceType: "mongo",
    displayName: "MongoDB",
    category: "generic",
    driver: "mongo",
    docsUrl: "https://www.mongodb.com/docs/manual/reference/connection-string/",
    authModes: [{ type: "connection_string", secretField: "dsn", grants: ["read"], refs: { scopes: { url: "https://www.mongodb.com/docs/manual/reference/built-in-roles/", section: "Database User Roles: read provides the ability to read data on all non-system collections and the system.js collection" } } }],
    configFields: [
      { name: "host", description: "MongoDB host (not a vendor host: the tenant approves it)", format: "host", maxLength: 253, destination: true },
      { name: "port", description: "port", type: "integer", min: 1, max: 65535, default: 27017 },
      { name: "database", description: "database to inventory", pattern: "^[^/\\\\. \"$*<>:|?]{1,63}$", maxLength: 63 },
      { name: "user", description: "user name (the password stays behind credential_locator)", maxLength: 128, pattern: "^[^\\s:@/]+$" },
      { name: "auth_source", description: "authentication database (connection-string authSource)", pattern: "^[^/\\\\. \"$*<>:|?]{1,63}$", maxLength: 63 },
      // readPreference modes (connection-string options)
      { name: "read_preference", description: "read preference", type: "enum", values: ["primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"], default: "secondaryPreferred" },
    ],
    secrets: ["dsn", "password"],
  },
  {
    sourceType: "postgres",
    displayName: "PostgreSQL",
    category: "generic",
    driver: "postgres",
    docsUrl: "https://www.postgresql.org/docs/current/libpq-connect.html",
    authModes: [{ type: "connection_string", secretField: "dsn", grants: ["pg_read_all_data"], refs: { scopes: { url: "https://postgresql.org/docs/16/predefined-roles.html", section: "Table 22.1 Predefined Roles: pg_read_all_data" } } }],
    configFields: [
      ...sqlFields(5432),
    ],
    secrets: ["dsn", "password"],
  },
  {
    sourceType: "supabase",
    displayName: "Supabase (Postgres)",
    category: "generic",
    driver: "postgres",
    docsUrl: "https://supabase.com/docs/guides/database/connecting-to-postgres",
    authModes: [{ type: "connection_string", secretField: "dsn", grants: ["pg_read_all_data"], refs: { scopes: { url: "https://postgresql.org/docs/16/predefined-roles.html", section: "Table 22.1 Predefined Roles: pg_read_all_data" } } }],
    configFields: [
      { name: "project_ref", description: "project reference", format: "dns_label", maxLength: 63 },
      ...sqlFields(5432),
    ],
    secrets: ["dsn", "password"],
    allowedHosts: ["*.supabase.co", "*.pooler.supabase.com"],
    allowedHostsRef: { url: "https://supabase.com/docs/guides/database/connecting-to-postgres", section: "Host:Port per mode: direct connection db.[project-id].supabase.co:5432; shared pooler (Supavisor) aws-[region].pooler.supabase.com:5432/6543" },
  },
  {
    sourceType: "filesource",
    displayName: "Files (CSV, JSON, Parquet)",
    category: "generic",
    driver: "filesource",
    docsUrl: "https://www.rfc-editor.org/rfc/rfc4180",
    authModes: [{ type: "none" }],
    configFields: [
      // a folder on this server: readable only inside the tenant's approved folders (never the app's data folder)
      { name: "root", description: "folder to read (an approved folder, or a running sandbox `sandbox:files`)", format: "path", maxLength: 1024, destination: true, sandboxRef: true, example: "sandbox:files" },
      { name: "path", description: "directory or file to read (same rules as root)", format: "path", maxLength: 1024, destination: true, sandboxRef: true },
      { name: "format", description: "csv, json, jsonl or parquet (default: by extension)", type: "enum", values: ["csv", "json", "jsonl", "parquet"] },
    ],
    secrets: [],
  },
];
