/**
 * The 33 source types of the seed's allowlist (it says 32 and lists 33: all are in).
 * The catalog has exactly one entry per type; a test proves the two agree.
 */
export const ALLOWLIST = [
  // Productivity & collaboration
  "gworkspace_drive", "m365_sharepoint", "slack", "zoom", "box", "dropbox", "confluence", "jira", "github",
  // Identity & security
  "okta", "entra", "servicenow", "gitlab",
  // Cloud infrastructure
  "aws_org", "azure_sub", "gcp_org", "s3", "s3_compat", "datadog",
  // Data warehouses
  "snowflake", "bigquery", "redshift",
  // Business applications
  "salesforce", "zendesk", "pagerduty", "workday", "netsuite",
  // Generic / flexible
  "openapi", "jdbc", "mongo", "postgres", "supabase", "filesource",
] as const;

export type SourceType = (typeof ALLOWLIST)[number];

const SET: ReadonlySet<string> = new Set(ALLOWLIST);

export function isAllowlisted(sourceType: string): sourceType is SourceType {
  return SET.has(sourceType);
}
