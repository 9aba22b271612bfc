/** Data warehouses: Snowflake (SQL API), BigQuery (REST), Redshift (Postgres wire protocol). */
import type { CatalogEntryInput } from "../schema";
import { BASE_URL, sqlFields } from "./fields";

export const warehouseEntries: CatalogEntryInput[] = [
  {
    sourceType: "snowflake",
    displayName: "Snowflake",
    category: "warehouse",
    driver: "rest",
    docsUrl: "https://docs.snowflake.com/en/developer-guide/sql-api/index",
    authModes: [
      {
        type: "oauth2",
        grant: "authorization_code",
        authorizeUrl: "https://{{config.account}}.snowflakecomputing.com/oauth/authorize",
        tokenUrl: "https://{{config.account}}.snowflakecomputing.com/oauth/token-request",
        scopes: ["session:role:{{config.role}}"],
        header: { name: "Authorization", secretField: "access_token", prefix: "Bearer " },
      },
      { type: "service_account", format: "snowflake_keypair_jwt", scopes: [], secretFields: ["private_key"] },
    ],
    configFields: [
      // the account identifier in its URL form <orgname>-<account_name> (one DNS label of <account>.snowflakecomputing.com)
      { name: "account", description: "account identifier, e.g. myorg-myaccount", format: "dns_label", maxLength: 63, required: true, example: "myorg-myaccount" },
      { name: "warehouse", description: "warehouse to run metadata queries on", format: "identifier", maxLength: 255, required: true, example: "COMPUTE_WH" },
      { name: "database", description: "database to inventory", format: "identifier", maxLength: 255, required: true, example: "ANALYTICS" },
      { name: "role", description: "a role with USAGE/SELECT only", format: "identifier", maxLength: 255, required: true, example: "READER" },
      BASE_URL,
    ],
    secrets: ["access_token", "refresh_token", "private_key"],
    baseUrl: "https://{{config.account}}.snowflakecomputing.com",
    allowedHosts: ["*.snowflakecomputing.com"],
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    // The SQL API takes statements by POST; Safe Mode lets through single read statements only.
    readOnlyPost: [{ path: "/api/v2/statements", kind: "sql", field: "statement" }],
    health: {
      path: "/api/v2/statements",
      method: "POST",
      body: { statement: "SELECT CURRENT_VERSION()", timeout: 30, warehouse: "{{config.warehouse}}", role: "{{config.role}}" },
    },
    streams: [
      {
        name: "tables",
        path: "/api/v2/statements",
        method: "POST",
        body: {
          statement:
            "SELECT table_catalog, table_schema, table_name, table_type, row_count FROM information_schema.tables WHERE table_schema <> 'INFORMATION_SCHEMA' ORDER BY table_schema, table_name LIMIT {{page.limit}}",
          timeout: 30,
          database: "{{config.database}}",
          warehouse: "{{config.warehouse}}",
          role: "{{config.role}}",
        },
        recordSelector: ["data"],
        columnsPath: ["resultSetMetaData", "rowType"],
        pagination: { type: "none" },
        fields: [
          { name: "TABLE_CATALOG", type: "text" },
          { name: "TABLE_SCHEMA", type: "text" },
          { name: "TABLE_NAME", type: "text" },
          { name: "TABLE_TYPE", type: "text" },
          { name: "ROW_COUNT", type: "fixed", nullable: true },
        ],
      },
    ],
    notes: "Key-pair auth sends a JWT with X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT. The role must be read-only.",
  },
  {
    sourceType: "bigquery",
    displayName: "Google BigQuery",
    category: "warehouse",
    driver: "rest",
    docsUrl: "https://cloud.google.com/bigquery/docs/reference/rest",
    authModes: [
      {
        type: "service_account",
        format: "google_jwt",
        tokenUrl: "https://oauth2.googleapis.com/token",
        scopes: ["https://www.googleapis.com/auth/cloud-platform.read-only"],
        secretFields: ["client_email", "private_key"],
      },
      {
        type: "oauth2",
        grant: "authorization_code",
        authorizeUrl: "https://accounts.google.com/o/oauth2/v2/auth",
        tokenUrl: "https://oauth2.googleapis.com/token",
        scopes: ["https://www.googleapis.com/auth/cloud-platform.read-only"],
        pkce: true,
      },
    ],
    configFields: [
      // project IDs: 6–30 lower-case letters, digits and hyphens, starting with a letter, not ending with a hyphen
      { name: "project_id", description: "GCP project that holds the datasets", pattern: "^[a-z][a-z0-9-]{4,28}[a-z0-9]$", maxLength: 30, required: true, example: "acme-analytics" },
      BASE_URL,
    ],
    secrets: ["access_token", "refresh_token", "private_key"],
    baseUrl: "https://bigquery.googleapis.com/bigquery/v2",
    allowedHosts: ["bigquery.googleapis.com"],
    readOnlyPost: [{ path: "/projects/{{config.project_id}}/queries", kind: "sql", field: "query" }],
    health: { path: "/projects/{{config.project_id}}/datasets", query: { maxResults: "1" } },
    streams: [
      {
        name: "datasets",
        path: "/projects/{{config.project_id}}/datasets",
        recordSelector: ["datasets"],
        pagination: { type: "page_token", tokenPath: ["nextPageToken"], tokenParam: "pageToken", limitParam: "maxResults" },
        maxPageSize: 1000,
      },
    ],
    notes: "Grant roles/bigquery.metadataViewer (and dataViewer for samples). jobs.query is a read query only for single SELECTs.",
  },
  {
    sourceType: "redshift",
    displayName: "Amazon Redshift",
    category: "warehouse",
    driver: "postgres",
    docsUrl: "https://docs.aws.amazon.com/redshift/latest/dg/welcome.html",
    authModes: [{ type: "connection_string", secretField: "dsn", grants: ["USAGE ON SCHEMA", "SELECT ON ALL TABLES IN SCHEMA"] }],
    configFields: sqlFields(5439, { database: "dev" }),
    secrets: ["dsn", "password"],
    allowedHosts: ["*.redshift.amazonaws.com", "*.redshift-serverless.amazonaws.com"],
  },
];
