/** Cloud infrastructure: AWS Organizations, Azure subscriptions, GCP organizations, S3, S3-compatible, Datadog. */
import type { CatalogEntryInput } from "../schema";
import { BASE_URL } from "./fields";

const AWS_KEYS = ["access_key_id", "secret_access_key"];
const ORGS_TARGET = "AWSOrganizationsV20161128";
const AMZ_JSON = "application/x-amz-json-1.1";
const DATADOG_SITES = ["api.datadoghq.com", "api.us3.datadoghq.com", "api.us5.datadoghq.com", "api.datadoghq.eu", "api.ap1.datadoghq.com", "api.ap2.datadoghq.com", "api.ddog-gov.com"];

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
      },
    ],
    configFields: [
      { name: "region", description: "SigV4 signing region (Organizations is served from us-east-1)", format: "aws_region", maxLength: 32, default: "us-east-1" },
      BASE_URL,
    ],
    secrets: ["access_key_id", "secret_access_key", "session_token"],
    baseUrl: "https://organizations.us-east-1.amazonaws.com",
    allowedHosts: ["organizations.us-east-1.amazonaws.com"],
    // JSON 1.1 protocol: every operation is a POST to "/"; only these targets are reads.
    readOnlyPost: [
      { path: "/", kind: "rpc", headers: { "X-Amz-Target": `${ORGS_TARGET}.DescribeOrganization` } },
      { path: "/", kind: "rpc", headers: { "X-Amz-Target": `${ORGS_TARGET}.ListAccounts` } },
      { path: "/", kind: "rpc", headers: { "X-Amz-Target": `${ORGS_TARGET}.ListRoots` } },
    ],
    health: { path: "/", method: "POST", headers: { "X-Amz-Target": `${ORGS_TARGET}.DescribeOrganization`, "Content-Type": AMZ_JSON }, body: {} },
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
      },
    ],
    configFields: [
      { name: "tenant_id", description: "Entra tenant ID", format: "uuid_or_hostname", maxLength: 253, required: true, example: "contoso.onmicrosoft.com" },
      { name: "subscription_id", description: "subscription to inventory (its GUID)", format: "uuid", maxLength: 36, required: true, example: "00000000-0000-4000-8000-000000000000" },
      BASE_URL,
    ],
    secrets: ["access_token", "client_secret"],
    baseUrl: "https://management.azure.com",
    allowedHosts: ["management.azure.com"],
    health: { path: "/subscriptions/{{config.subscription_id}}", query: { "api-version": "2022-12-01" } },
    streams: [
      {
        name: "resource_groups",
        path: "/subscriptions/{{config.subscription_id}}/resourcegroups",
        query: { "api-version": "2021-04-01" },
        recordSelector: ["value"],
        pagination: { type: "next_url", nextPath: ["nextLink"], limitParam: "$top" },
        maxPageSize: 1000,
      },
      {
        name: "resources",
        path: "/subscriptions/{{config.subscription_id}}/resources",
        query: { "api-version": "2021-04-01" },
        recordSelector: ["value"],
        pagination: { type: "next_url", nextPath: ["nextLink"], limitParam: "$top" },
        maxPageSize: 1000,
      },
    ],
    notes: "Assign the service principal the built-in Reader role on the subscription.",
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
    configFields: [BASE_URL],
    secrets: ["access_token", "refresh_token", "private_key"],
    baseUrl: "https://cloudresourcemanager.googleapis.com/v3",
    allowedHosts: ["cloudresourcemanager.googleapis.com"],
    health: { path: "/projects:search", query: { pageSize: "1" } },
    streams: [
      {
        name: "projects",
        path: "/projects:search",
        recordSelector: ["projects"],
        pagination: { type: "page_token", tokenPath: ["nextPageToken"], tokenParam: "pageToken", limitParam: "pageSize" },
        maxPageSize: 500,
      },
      {
        name: "folders",
        path: "/folders:search",
        recordSelector: ["folders"],
        pagination: { type: "page_token", tokenPath: ["nextPageToken"], tokenParam: "pageToken", limitParam: "pageSize" },
        maxPageSize: 500,
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
      { type: "aws_sigv4", service: "s3", actions: ["s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject"], secretFields: AWS_KEYS },
    ],
    configFields: [
      { name: "region", description: "bucket region", format: "aws_region", maxLength: 32, default: "us-east-1" },
      BUCKET,
      PREFIX,
    ],
    secrets: ["access_key_id", "secret_access_key", "session_token"],
    allowedHosts: ["*.amazonaws.com"],
  },
  {
    sourceType: "s3_compat",
    displayName: "S3-compatible object storage",
    category: "cloud",
    driver: "s3",
    docsUrl: "https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html",
    authModes: [
      { type: "aws_sigv4", service: "s3", actions: ["s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject"], secretFields: AWS_KEYS },
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
      },
      {
        type: "oauth2",
        grant: "authorization_code",
        authorizeUrl: "https://app.{{config.site}}/oauth2/v1/authorize",
        tokenUrl: "https://api.{{config.site}}/oauth2/v1/token",
        scopes: ["monitors_read", "dashboards_read", "user_access_read"],
        pkce: true,
      },
    ],
    configFields: [
      // the Datadog sites (docs.datadoghq.com/getting_started/site/): the same list as DATADOG_SITES
      { name: "site", description: "Datadog site, e.g. datadoghq.com, datadoghq.eu, us5.datadoghq.com", type: "enum", values: DATADOG_SITES.map((h) => h.replace(/^api\./, "")), default: "datadoghq.com" },
      BASE_URL,
    ],
    secrets: ["api_key", "application_key", "access_token", "refresh_token"],
    baseUrl: "https://api.{{config.site}}",
    allowedHosts: DATADOG_SITES,
    health: { path: "/api/v1/validate" },
    streams: [
      {
        name: "monitors",
        path: "/api/v1/monitor",
        recordSelector: [],
        pagination: { type: "page_number", pageParam: "page", sizeParam: "page_size", start: 0 },
        maxPageSize: 1000,
      },
      {
        name: "users",
        path: "/api/v2/users",
        recordSelector: ["data"],
        pagination: { type: "page_number", pageParam: "page[number]", sizeParam: "page[size]", start: 0 },
        maxPageSize: 100,
      },
      { name: "dashboards", path: "/api/v1/dashboard", recordSelector: ["dashboards"], pagination: { type: "none" } },
    ],
    notes: "Scope the application key to monitors_read, dashboards_read and user_access_read.",
  },
];
