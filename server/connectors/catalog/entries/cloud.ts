/** Cloud infrastructure: AWS Organizations, Azure subscriptions, GCP organizations, S3, S3-compatible, Datadog. */
import type { CatalogEntryInput } from "../schema";
import { BASE_URL } from "./fields";

const AWS_KEYS = ["access_key_id", "secret_access_key"];
const ORGS_TARGET = "AWSOrganizationsV20161128";
const AMZ_JSON = "application/x-amz-json-1.1";
const DATADOG_SITES = ["api.datadoghq.com", "api.us3.datadoghq.com", "api.us5.datadoghq.com", "api.datadoghq.eu", "api.ap1.datadoghq.com", "api.ap2.datadoghq.com", "api.ddog-gov.com"];
/** Datadog site parameter → its site URL host (docs.datadoghq.com/getting_started/site/ "Access the Datadog site"): not always app.<site> */
const DATADOG_APP_HOSTS: Record<string, string> = {
  "datadoghq.com": "app.datadoghq.com",
  "us3.datadoghq.com": "us3.datadoghq.com",
  "us5.datadoghq.com": "us5.datadoghq.com",
  "datadoghq.eu": "app.datadoghq.eu",
  "ap1.datadoghq.com": "ap1.datadoghq.com",
  "ap2.datadoghq.com": "ap2.datadoghq.com",
  "ddog-gov.com": "app.ddog-gov.com",
};

/** S3 bucket naming rules: 3–63 characters, lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit */
const BUCKET = { name: "bucket", description: "bucket to inventory", pattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", maxLength: 63 };
const PREFIX = { name: "prefix", description: "key prefix to limit the listing", maxLength: 1024 };

export const cloudEntries: CatalogEntryInput[] = [
  {
    sourceType: "aws_org",
    displayName: "AWS Organizations",
    category: "cloud",
    driver: "rest",
    docsUrl: "https://docs.aws.amazon.com/organizations/latest/APIReference/Welcome.html",
    authModes: [
      {
        type: "aws_sigv4",
        service: "organizations",
        actions: ["organizations:DescribeOrganization", "organizations:ListAccounts", "organizations:ListRoots", "organizations:ListOrganizationalUnitsForParent"],
        secretFields: AWS_KEYS,
        refs: { scopes: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/organizations/2016-11-28/service-2.json", section: "operations DescribeOrganization, ListAccounts, ListRoots, ListOrganizationalUnitsForParent" } },
      },
    ],
    configFields: [
      { name: "region", description: "SigV4 signing region (Organizations is served from us-east-1)", format: "aws_region", maxLength: 32, default: "us-east-1" },
      BASE_URL,
    ],
    secrets: ["access_key_id", "secret_access_key", "session_token"],
    baseUrl: "https://organizations.us-east-1.amazonaws.com",
    baseUrlRef: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/organizations/2016-11-28/service-2.json", section: "metadata: endpointPrefix organizations, globalEndpoint organizations.us-east-1.amazonaws.com" },
    allowedHosts: ["organizations.us-east-1.amazonaws.com"],
    allowedHostsRef: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/organizations/2016-11-28/service-2.json", section: "metadata.globalEndpoint" },
    // JSON 1.1 protocol: every operation is a POST to "/"; only these targets are reads.
    readOnlyPost: [
      { path: "/", kind: "rpc", headers: { "X-Amz-Target": `${ORGS_TARGET}.DescribeOrganization` }, ref: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/organizations/2016-11-28/service-2.json", section: "operation DescribeOrganization (jsonVersion 1.1, targetPrefix AWSOrganizationsV20161128)" } },
      { path: "/", kind: "rpc", headers: { "X-Amz-Target": `${ORGS_TARGET}.ListAccounts` }, ref: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/organizations/2016-11-28/service-2.json", section: "operation ListAccounts" } },
      { path: "/", kind: "rpc", headers: { "X-Amz-Target": `${ORGS_TARGET}.ListRoots` }, ref: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/organizations/2016-11-28/service-2.json", section: "operation ListRoots" } },
    ],
    health: { path: "/", method: "POST", headers: { "X-Amz-Target": `${ORGS_TARGET}.DescribeOrganization`, "Content-Type": AMZ_JSON }, body: {}, ref: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/organizations/2016-11-28/service-2.json", section: "operation DescribeOrganization" }, expect: [{ path: ["Organization"], type: "object" }] },
    streams: [
      {
        name: "accounts",
        path: "/",
        method: "POST",
        headers: { "X-Amz-Target": `${ORGS_TARGET}.ListAccounts`, "Content-Type": AMZ_JSON },
        body: {},
        recordSelector: ["Accounts"],
        pagination: { type: "cursor", cursorPath: ["NextToken"], cursorParam: "NextToken", limitParam: "MaxResults", in: "body" },
        maxPageSize: 20,
        ref: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/organizations/2016-11-28/service-2.json", section: "operation ListAccounts" },
      },
    ],
    notes: "Requests are SigV4-signed (service organizations, region us-east-1). Attach an IAM policy with only the listed read actions.",
  },
  {
    sourceType: "azure_sub",
    displayName: "Azure subscription (Resource Manager)",
    category: "cloud",
    driver: "rest",
    docsUrl: "https://learn.microsoft.com/en-us/rest/api/resources/",
    authModes: [
      {
        type: "service_account",
        format: "azure_client_secret",
        tokenUrl: "https://login.microsoftonline.com/{{config.tenant_id}}/oauth2/v2.0/token",
        scopes: ["https://management.azure.com/.default"],
        secretFields: ["client_id", "client_secret"],
        refs: { tokenUrl: { url: "https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow", section: "Get a token" }, scopes: { url: "https://docs.azure.cn/en-us/entra/identity-platform/scenario-daemon-acquire-token", section: "Scopes to request: https://management.azure.com/.default" }, tokenAuth: { url: "https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow", section: "First case: Access token request with a shared secret" } },
      },
    ],
    configFields: [
      { name: "tenant_id", description: "Entra tenant ID", format: "uuid_or_hostname", maxLength: 253, required: true, example: "contoso.onmicrosoft.com" },
      { name: "subscription_id", description: "subscription to inventory (its GUID)", format: "uuid", maxLength: 36, required: true, example: "00000000-0000-4000-8000-000000000000" },
      BASE_URL,
    ],
    secrets: ["access_token", "client_secret"],
    baseUrl: "https://management.azure.com",
    baseUrlRef: { url: "https://github.com/Azure/azure-rest-api-specs/blob/main/specification/resources/resource-manager/Microsoft.Resources/stable/2022-12-01/subscriptions.json", section: "host management.azure.com" },
    allowedHosts: ["management.azure.com"],
    allowedHostsRef: { url: "https://github.com/Azure/azure-rest-api-specs/blob/main/specification/resources/resource-manager/Microsoft.Resources/stable/2022-12-01/subscriptions.json", section: "host" },
    health: { path: "/subscriptions/{{config.subscription_id}}", query: { "api-version": "2022-12-01" }, ref: { url: "https://github.com/Azure/azure-rest-api-specs/blob/main/specification/resources/resource-manager/Microsoft.Resources/stable/2022-12-01/subscriptions.json", section: "operationId Subscriptions_Get" }, expect: [{ path: ["subscriptionId"], type: "string" }] },
    // an intent's resource ids are resource groups of the subscription: 404 ResourceGroupNotFound → absent, 403 AuthorizationFailed → not visible
    namedResources: { kind: "resource group", lookup: { path: "/subscriptions/{{config.subscription_id}}/resourcegroups/{{resource.id}}", query: { "api-version": "2021-04-01" }, ref: { url: "https://github.com/Azure/azure-rest-api-specs/blob/main/specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json", section: "operationId ResourceGroups_Get (ResourceGroup id, name)" }, expect: [{ path: ["id"], type: "string" }, { path: ["name"], type: "string" }] } },
    streams: [
      {
        name: "resource_groups",
        path: "/subscriptions/{{config.subscription_id}}/resourcegroups",
        query: { "api-version": "2021-04-01" },
        recordSelector: ["value"],
        pagination: { type: "next_url", nextPath: ["nextLink"], limitParam: "$top" },
        maxPageSize: 1000,
        ref: { url: "https://github.com/Azure/azure-rest-api-specs/blob/main/specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json", section: "operationId ResourceGroups_List" },
      },
      {
        name: "resources",
        path: "/subscriptions/{{config.subscription_id}}/resources",
        query: { "api-version": "2021-04-01" },
        recordSelector: ["value"],
        pagination: { type: "next_url", nextPath: ["nextLink"], limitParam: "$top" },
        maxPageSize: 1000,
        ref: { url: "https://github.com/Azure/azure-rest-api-specs/blob/main/specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json", section: "operationId Resources_List" },
      },
    ],
    notes: "Assign the service principal the built-in Reader role on the subscription.",
    readOnlyGrant: "partial",
    privilegeNote: "https://management.azure.com/.default asks for whatever the service principal was granted; read-only is the Reader role assignment on the subscription, not the token scope.",
  },
  {
    sourceType: "gcp_org",
    displayName: "Google Cloud organization (Resource Manager)",
    category: "cloud",
    driver: "rest",
    docsUrl: "https://cloud.google.com/resource-manager/reference/rest",
    authModes: [
      {
        type: "service_account",
        format: "google_jwt",
        tokenUrl: "https://oauth2.googleapis.com/token",
        scopes: ["https://www.googleapis.com/auth/cloud-platform.read-only"],
        secretFields: ["client_email", "private_key"],
        refs: { tokenUrl: { url: "https://developers.google.com/accounts/docs/OAuth", section: "token endpoint https://oauth2.googleapis.com/token" }, scopes: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/cloudresourcemanager.v3.json", section: "projects.search / folders.search scopes cloud-platform.read-only" }, tokenAuth: { url: "https://developers.google.com/accounts/docs/OAuth2ServiceAccount", section: "HTTP/REST: a JWT signed with the service account's private key, POSTed to https://oauth2.googleapis.com/token as grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer with assertion=<JWT>" } },
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
        refs: { authorizeUrl: { url: "https://developers.google.com/accounts/docs/OAuth", section: "Step 2: Redirect to Google's OAuth 2.0 server" }, authorizeParams: { url: "https://developers.google.com/accounts/docs/OAuth", section: "Step 1: Set authorization parameters (access_type=offline, prompt=consent)" }, tokenUrl: { url: "https://developers.google.com/accounts/docs/OAuth", section: "Step 5: Exchange authorization code for refresh and access tokens" }, scopes: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/cloudresourcemanager.v3.json", section: "projects.search / folders.search scopes cloud-platform.read-only" }, tokenAuth: { url: "https://developers.google.com/accounts/docs/OAuth", section: "Step 5: client_id and client_secret in the POST body" } },
      },
    ],
    configFields: [BASE_URL],
    secrets: ["access_token", "refresh_token", "private_key"],
    baseUrl: "https://cloudresourcemanager.googleapis.com/v3",
    baseUrlRef: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/cloudresourcemanager.v3.json", section: "rootUrl https://cloudresourcemanager.googleapis.com/, version v3" },
    allowedHosts: ["cloudresourcemanager.googleapis.com"],
    allowedHostsRef: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/cloudresourcemanager.v3.json", section: "rootUrl" },
    health: { path: "/projects:search", query: { pageSize: "1" }, ref: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/cloudresourcemanager.v3.json", section: "cloudresourcemanager.projects.search (GET v3/projects:search): response SearchProjectsResponse { projects: Project[], nextPageToken }" }, expect: [{ path: ["projects"], type: "array" }, { path: ["projects", "0", "projectId"], type: "string" }] },
    streams: [
      {
        name: "projects",
        path: "/projects:search",
        recordSelector: ["projects"],
        pagination: { type: "page_token", tokenPath: ["nextPageToken"], tokenParam: "pageToken", limitParam: "pageSize" },
        maxPageSize: 500,
        ref: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/cloudresourcemanager.v3.json", section: "cloudresourcemanager.projects.search" },
      },
      {
        name: "folders",
        path: "/folders:search",
        recordSelector: ["folders"],
        pagination: { type: "page_token", tokenPath: ["nextPageToken"], tokenParam: "pageToken", limitParam: "pageSize" },
        maxPageSize: 500,
        ref: { url: "https://github.com/googleapis/discovery-artifact-manager/blob/master/discoveries/cloudresourcemanager.v3.json", section: "cloudresourcemanager.folders.search" },
      },
    ],
    notes: "Grant roles/browser (or resourcemanager.projects.get/list) at the organization.",
  },
  {
    sourceType: "s3",
    displayName: "Amazon S3",
    category: "cloud",
    driver: "s3",
    docsUrl: "https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html",
    authModes: [
      { type: "aws_sigv4", service: "s3", actions: ["s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject"], secretFields: AWS_KEYS, refs: { scopes: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/s3/2006-03-01/service-2.json", section: "operations ListBuckets, ListObjectsV2, GetBucketLocation, GetObject" } } },
    ],
    configFields: [
      { name: "region", description: "bucket region", format: "aws_region", maxLength: 32, default: "us-east-1" },
      BUCKET,
      PREFIX,
    ],
    secrets: ["access_key_id", "secret_access_key", "session_token"],
    allowedHosts: ["*.amazonaws.com"],
    allowedHostsRef: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/s3/2006-03-01/service-2.json", section: "metadata endpointPrefix s3 (regional *.amazonaws.com endpoints)" },
  },
  {
    sourceType: "s3_compat",
    displayName: "S3-compatible object storage",
    category: "cloud",
    driver: "s3",
    docsUrl: "https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html",
    authModes: [
      { type: "aws_sigv4", service: "s3", actions: ["s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject"], secretFields: AWS_KEYS, refs: { scopes: { url: "https://github.com/boto/botocore/blob/develop/botocore/data/s3/2006-03-01/service-2.json", section: "operations ListBuckets, ListObjectsV2, GetObject" } } },
    ],
    configFields: [
      { name: "endpoint", description: "S3 endpoint URL (MinIO, Ceph, R2, Wasabi…): the tenant approves its host", format: "url", maxLength: 2048, required: true, destination: true, sandboxRef: true, example: "sandbox:s3" },
      { name: "region", description: "signing region", pattern: "^[a-z0-9-]{1,32}$", maxLength: 32, default: "us-east-1" },
      BUCKET,
      PREFIX,
      { name: "force_path_style", description: "path-style addressing (true for most on-prem servers)", type: "boolean", default: true },
    ],
    secrets: ["access_key_id", "secret_access_key"],
  },
  {
    sourceType: "datadog",
    displayName: "Datadog",
    category: "cloud",
    driver: "rest",
    docsUrl: "https://docs.datadoghq.com/api/latest/",
    authModes: [
      {
        type: "api_key",
        headers: [
          { name: "DD-API-KEY", secretField: "api_key", prefix: "" },
          { name: "DD-APPLICATION-KEY", secretField: "application_key", prefix: "" },
        ],
        refs: { header: { url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v1/openapi.yaml", section: "components.securitySchemes apiKeyAuth (DD-API-KEY), appKeyAuth (DD-APPLICATION-KEY)" } },
      },
      {
        type: "oauth2",
        grant: "authorization_code",
        // an OAuth client is registered per Datadog site
        clientPerInstance: true,
        // consent happens on the site's web app host (us3.datadoghq.com, app.datadoghq.eu…), implied by the site
        authorizeUrl: "https://{{config.app_host}}/oauth2/v1/authorize",
        tokenUrl: "https://api.{{config.site}}/oauth2/v1/token",
        scopes: ["monitors_read", "dashboards_read", "user_access_read"],
        pkce: true,
        refs: { authorizeUrl: [{ url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v1/openapi.yaml", section: "components.securitySchemes.AuthZ authorizationUrl /oauth2/v1/authorize" }, { url: "https://docs.datadoghq.com/extend/authorization/oauth2_in_datadog", section: "Implement the OAuth protocol, step 3: the authorize request goes to <site>/oauth2/v1/authorize, site naming the user's Datadog site and subdomain" }], tokenUrl: { url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v1/openapi.yaml", section: "components.securitySchemes.AuthZ tokenUrl /oauth2/v1/token" }, scopes: [{ url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v1/openapi.yaml", section: "ListMonitors monitors_read; ListDashboards dashboards_read" }, { url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v2/openapi.yaml", section: "ListUsers user_access_read" }], tokenAuth: { url: "https://docs.datadoghq.com/extend/authorization/oauth2_in_datadog", section: "Implement the OAuth protocol, step 5: the POST to https://api.<domain>/oauth2/v1/token includes the authorization code, code_verifier, OAuth client ID and client secret" } },
      },
    ],
    configFields: [
      // the Datadog sites (docs.datadoghq.com/getting_started/site/): the same list as DATADOG_SITES
      { name: "site", description: "Datadog site, e.g. datadoghq.com, datadoghq.eu, us5.datadoghq.com", type: "enum", values: DATADOG_SITES.map((h) => h.replace(/^api\./, "")), default: "datadoghq.com", implies: Object.fromEntries(Object.entries(DATADOG_APP_HOSTS).map(([site, host]) => [site, { app_host: host }])), impliesRef: { url: "https://docs.datadoghq.com/getting_started/site/", section: "Access the Datadog site: Site URL per Site Parameter (US1 app.datadoghq.com, US3 us3.datadoghq.com, US5 us5.datadoghq.com, EU1 app.datadoghq.eu, US1-FED app.ddog-gov.com, AP1 ap1.datadoghq.com, AP2 ap2.datadoghq.com)" } },
      BASE_URL,
    ],
    secrets: ["api_key", "application_key", "access_token", "refresh_token"],
    baseUrl: "https://api.{{config.site}}",
    baseUrlRef: { url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v1/openapi.yaml", section: "servers: https://{subdomain}.{site} (subdomain api)" },
    allowedHosts: DATADOG_SITES,
    allowedHostsRef: { url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v1/openapi.yaml", section: "servers: site enum" },
    health: { path: "/api/v1/validate", ref: { url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v1/openapi.yaml", section: "operationId Validate" }, expect: [{ path: ["valid"], type: "boolean", equals: true }] },
    streams: [
      {
        name: "monitors",
        path: "/api/v1/monitor",
        recordSelector: [],
        pagination: { type: "page_number", pageParam: "page", sizeParam: "page_size", start: 0 },
        maxPageSize: 1000,
        ref: { url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v1/openapi.yaml", section: "operationId ListMonitors" },
      },
      {
        name: "users",
        path: "/api/v2/users",
        recordSelector: ["data"],
        pagination: { type: "page_number", pageParam: "page[number]", sizeParam: "page[size]", start: 0 },
        maxPageSize: 100,
        ref: { url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v2/openapi.yaml", section: "operationId ListUsers" },
      },
      { name: "dashboards", path: "/api/v1/dashboard", recordSelector: ["dashboards"], pagination: { type: "none" }, ref: { url: "https://github.com/DataDog/datadog-api-client-typescript/blob/master/.generator/schemas/v1/openapi.yaml", section: "operationId ListDashboards" } },
    ],
    notes: "Scope the application key to monitors_read, dashboards_read and user_access_read.",
  },
];
