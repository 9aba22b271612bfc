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
        // token-request wants HTTP Basic client auth; an OAuth client (security integration) per account
        tokenAuth: "client_secret_basic",
        clientPerInstance: true,
        authorizeUrl: "https://{{config.account}}.snowflakecomputing.com/oauth/authorize",
        tokenUrl: "https://{{config.account}}.snowflakecomputing.com/oauth/token-request",
        // scopes are literal: refresh_token asks for a refresh token; the role is chosen per statement (SQL API `role`), not sent as session:role:<config>
        scopes: ["refresh_token"],
        header: { name: "Authorization", secretField: "access_token", prefix: "Bearer " },
        refs: { authorizeUrl: { url: "https://docs.snowflake.com/user-guide/oauth-custom.html", section: "Snowflake OAuth endpoints: authorization endpoint /oauth/authorize" }, tokenUrl: { url: "https://docs.snowflake.com/user-guide/oauth-custom.html", section: "Snowflake OAuth endpoints: token endpoint /oauth/token-request" }, scopes: { url: "https://docs.snowflake.com/user-guide/oauth-custom.html", section: "scope parameter session:role:<role_name>" }, tokenAuth: { url: "https://docs.snowflake.com/user-guide/oauth-custom.html", section: "token request: client credentials in an HTTP Basic Authorization header" } },
      },
      { type: "service_account", format: "snowflake_keypair_jwt", scopes: [], secretFields: ["private_key"], refs: { tokenAuth: { url: "https://github.com/snowflakedb/snowflake-rest-api-specs/blob/main/specifications/sqlapi.yaml", section: "components.securitySchemes KeyPair (bearer JWT, X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT)" } } },
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
    baseUrlRef: { url: "https://github.com/snowflakedb/snowflake-rest-api-specs/blob/main/specifications/sqlapi.yaml", section: "servers: https://{account}.snowflakecomputing.com" },
    allowedHosts: ["*.snowflakecomputing.com"],
    allowedHostsRef: { url: "https://github.com/snowflakedb/snowflake-rest-api-specs/blob/main/specifications/sqlapi.yaml", section: "servers" },
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    // The SQL API takes statements by POST; Safe Mode lets through single read statements only.
    readOnlyPost: [{ path: "/api/v2/statements", kind: "sql", field: "statement", ref: { url: "https://github.com/snowflakedb/snowflake-rest-api-specs/blob/main/specifications/sqlapi.yaml", section: "operationId SubmitStatement" } }],
    health: {
      path: "/api/v2/statements",
      method: "POST",
      body: { statement: "SELECT CURRENT_VERSION()", timeout: 30, warehouse: "{{config.warehouse}}", role: "{{config.role}}" },
      ref: { url: "https://github.com/snowflakedb/snowflake-rest-api-specs/blob/main/specifications/sqlapi.yaml", section: "operationId SubmitStatement" }, expect: [{ path: ["statementHandle"], type: "string" }],
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
        ref: { url: "https://github.com/snowflakedb/snowflake-rest-api-specs/blob/main/specifications/sqlapi.yaml", section: "operationId SubmitStatement (information_schema.tables)" },
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
        refs: { tokenUrl: { url: "https://developers.google.com/accounts/docs/OAuth", section: "token endpoint https://oauth2.googleapis.com/token" }, scopes: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/bigquery.v2.json", section: "datasets.list and jobs.query scopes: cloud-platform.read-only" }, tokenAuth: { url: "https://developers.google.com/accounts/docs/OAuth2ServiceAccount", section: "HTTP/REST: a JWT signed with the service account's private key, POSTed to https://oauth2.googleapis.com/token as grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer with assertion=<JWT>" } },
      },
      {
        type: "oauth2",
        grant: "authorization_code",
        tokenAuth: "client_secret_post",
        // without access_type=offline Google issues no refresh token; prompt=consent re-issues it on a repeat consent
        authorizeParams: { access_type: "offline", prompt: "consent" },
        authorizeUrl: "https://accounts.google.com/o/oauth2/v2/auth",
        tokenUrl: "https://oauth2.googleapis.com/token",
        scopes: ["https://www.googleapis.com/auth/cloud-platform.read-only"],
        pkce: true,
        refs: { authorizeUrl: { url: "https://developers.google.com/accounts/docs/OAuth", section: "Step 2: Redirect to Google's OAuth 2.0 server" }, authorizeParams: { url: "https://developers.google.com/accounts/docs/OAuth", section: "Step 1: Set authorization parameters (access_type=offline, prompt=consent)" }, tokenUrl: { url: "https://developers.google.com/accounts/docs/OAuth", section: "Step 5: Exchange authorization code for refresh and access tokens" }, scopes: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/bigquery.v2.json", section: "datasets.list and jobs.query scopes: cloud-platform.read-only" }, tokenAuth: { url: "https://developers.google.com/accounts/docs/OAuth", section: "Step 5: client_id and client_secret in the POST body" } },
      },
    ],
    configFields: [
      // project IDs: 6–30 lower-case letters, digits and hyphens, starting with a letter, not ending with a hyphen
      { name: "project_id", description: "GCP project that holds the datasets", pattern: "^[a-z][a-z0-9-]{4,28}[a-z0-9]$", maxLength: 30, required: true, example: "acme-analytics" },
      BASE_URL,
    ],
    secrets: ["access_token", "refresh_token", "private_key"],
    baseUrl: "https://bigquery.googleapis.com/bigquery/v2",
    baseUrlRef: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/bigquery.v2.json", section: "rootUrl https://bigquery.googleapis.com/, servicePath bigquery/v2/" },
    allowedHosts: ["bigquery.googleapis.com"],
    allowedHostsRef: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/bigquery.v2.json", section: "rootUrl" },
    readOnlyPost: [{ path: "/projects/{{config.project_id}}/queries", kind: "sql", field: "query", ref: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/bigquery.v2.json", section: "bigquery.jobs.query (POST projects/{projectId}/queries)" } }],
    health: { path: "/projects/{{config.project_id}}/datasets", query: { maxResults: "1" }, ref: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/bigquery.v2.json", section: "bigquery.datasets.list" }, expect: [{ path: ["kind"], type: "string", equals: "bigquery#datasetList" }] },
    // an intent's resource ids are datasets of the project: 404 notFound → absent, 403 accessDenied → not visible
    namedResources: { kind: "dataset", lookup: { path: "/projects/{{config.project_id}}/datasets/{{resource.id}}", ref: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/bigquery.v2.json", section: "bigquery.datasets.get (Dataset.datasetReference.datasetId)" }, expect: [{ path: ["datasetReference", "datasetId"], type: "string" }] } },
    streams: [
      {
        name: "datasets",
        path: "/projects/{{config.project_id}}/datasets",
        recordSelector: ["datasets"],
        pagination: { type: "page_token", tokenPath: ["nextPageToken"], tokenParam: "pageToken", limitParam: "maxResults" },
        maxPageSize: 1000,
        ref: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/bigquery.v2.json", section: "bigquery.datasets.list" },
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
    authModes: [{ type: "connection_string", secretField: "dsn", grants: ["USAGE ON SCHEMA", "SELECT ON ALL TABLES IN SCHEMA"], refs: { scopes: { url: "https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT-examples.html", section: "Examples: grant select on all tables in schema; USAGE grants access to the objects in the schema but not privileges such as INSERT or SELECT on them" } } }],
    configFields: sqlFields(5439, { database: "dev" }),
    secrets: ["dsn", "password"],
    allowedHosts: ["*.redshift.amazonaws.com", "*.redshift-serverless.amazonaws.com"],
    allowedHostsRef: [{ url: "https://docs.aws.amazon.com/redshift/latest/mgmt/jdbc20-obtain-url.html", section: "Getting the JDBC URL: example endpoint examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com" }, { url: "https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-connecting.html", section: "Connecting to Amazon Redshift Serverless: workgroup-name.account-number.aws-region.redshift-serverless.amazonaws.com" }],
  },
];
