/**
 * Typed connection config (DESIGN.md "The intent", "The trust boundary"): each catalog entry
 * declares the config fields its driver reads, with a type, a format or vendor pattern, a maximum
 * length and whether it is required. Admission checks an intent's `config` against them before
 * anything is stored: unknown keys, wrong types, malformed values and missing required fields are
 * refused with field paths (`config.site`). Formats keep a value inside its role: a subdomain stays
 * one DNS label, a site is one of the vendor's sites, a URL carries no userinfo. Where a value
 * names a host the catalog does not know (`destination` fields: base_url, instance_url, spec_url,
 * a database host), it is admitted when well-formed and the destination grant decides at connect
 * time (safe-mode/destinations.ts).
 */
import ipaddr from "ipaddr.js";
import { MYSQL_SYSTEM_SCHEMAS } from "../safe-mode/sql-statements";
import type { CatalogEntry, ConfigField } from "./schema";

export type ConfigIssue = { path: string; message: string };

export const SANDBOX_REF_RE = /^sandbox:([a-z0-9_]+)(\/[^\s]*)?$/;

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function isHostname(v: string): boolean {
  if (v.length > 253 || v.endsWith(".")) return false;
  return v.split(".").every((l) => DNS_LABEL.test(l)) && !/^[0-9.]+$/.test(v);
}

function isIp(v: string): boolean {
  const bare = v.replace(/^\[|\]$/g, "");
  return ipaddr.isValid(bare) && (bare.includes(":") || ipaddr.IPv4.isValidFourPartDecimal(bare));
}

/** userinfo (`u:p@`) in anything URL-like: `https://u:p@h`, `mongodb://u@h`, `//u@h` */
export const URL_USERINFO_RE = /^(?:[a-z][a-z0-9+.-]*:)?\/\/[^/?#\s]*@/i;

function checkUrl(v: string, httpsOnly: boolean): string | undefined {
  if (URL_USERINFO_RE.test(v)) return "must not carry credentials (user:password@) in the URL";
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return "must be an absolute URL";
  }
  if (httpsOnly ? u.protocol !== "https:" : u.protocol !== "https:" && u.protocol !== "http:") return httpsOnly ? "must be an https:// URL" : "must be an http(s):// URL";
  if (u.username || u.password) return "must not carry credentials (user:password@) in the URL";
  if (u.hash) return "must not have a #fragment";
  if (!isHostname(u.hostname.toLowerCase()) && !isIp(u.hostname)) return "must name a valid host";
  return undefined;
}

/**
 * The schemas a database keeps for itself: PostgreSQL's pg_* (pg_catalog, pg_toast, pg_temp_N …)
 * and information_schema; MySQL/MariaDB's mysql, performance_schema and sys.
 */
export function isSystemSchema(name: string): boolean {
  const n = name.toLowerCase();
  // the same lists the catalog reads leave out (sql-statements.ts)
  return n.startsWith("pg_") || MYSQL_SYSTEM_SCHEMAS.includes(n);
}

function checkFormat(format: NonNullable<ConfigField["format"]>, v: string): string | undefined {
  switch (format) {
    case "hostname":
      return isHostname(v) ? undefined : "must be a host name (letters, digits, '-' and '.'; no scheme, port or path)";
    case "host":
      return isHostname(v) || isIp(v) ? undefined : "must be a host name or an IP address (no scheme, port or path)";
    case "dns_label":
      return DNS_LABEL.test(v) ? undefined : "must be a single DNS label (letters, digits and '-', at most 63 characters; no dots)";
    case "uuid":
      return UUID.test(v) ? undefined : "must be a UUID";
    case "uuid_or_hostname":
      return UUID.test(v) || isHostname(v) ? undefined : "must be a tenant ID (UUID) or a domain name";
    case "identifier":
      return IDENTIFIER.test(v) ? undefined : "must be an identifier (letters, digits, '_' or '$', not starting with a digit)";
    case "user_schema":
      if (!IDENTIFIER.test(v)) return "must be an identifier (letters, digits, '_' or '$', not starting with a digit)";
      return isSystemSchema(v) ? `is the database's own schema "${v}" (its catalog, settings and sessions): Safe Mode inventories user schemas only` : undefined;
    case "url":
      return checkUrl(v, false);
    case "https_url":
      return checkUrl(v, true);
    case "path":
      if (v.startsWith("file://")) return checkUrl(v.replace(/^file:/, "https:").replace(/^https:\/\/\//, "https://localhost/"), false);
      return v.startsWith("/") && !v.includes("\0") && !v.split("/").includes("..") ? undefined : "must be an absolute folder path (or a file:// URL) without '..'";
    case "aws_region":
      return AWS_REGION.test(v) ? undefined : "must be an AWS region code such as us-east-1";
    case "header_name":
      return HEADER_NAME.test(v) ? undefined : "must be an HTTP header name";
  }
}

function checkString(f: ConfigField, v: unknown, path: string, out: ConfigIssue[]): void {
  if (typeof v !== "string") {
    out.push({ path, message: "must be a string" });
    return;
  }
  if (v.length === 0) {
    out.push({ path, message: "must not be empty" });
    return;
  }
  if (v.length > f.maxLength) {
    out.push({ path, message: `must be at most ${f.maxLength} characters` });
    return;
  }
  if (f.sandboxRef && SANDBOX_REF_RE.test(v)) return;
  const why = f.format ? checkFormat(f.format, v) : undefined;
  if (why) {
    out.push({ path, message: why });
    return;
  }
  if (f.pattern && !new RegExp(f.pattern, "i").test(v)) out.push({ path, message: `is not a valid ${f.name.replace(/_/g, " ")} (${f.description})` });
}

/** One field's value; issues are pushed with `path`. */
export function checkFieldValue(f: ConfigField, v: unknown, path: string, out: ConfigIssue[]): void {
  switch (f.type) {
    case "string":
      return checkString(f, v, path, out);
    case "integer":
      if (typeof v !== "number" || !Number.isSafeInteger(v)) out.push({ path, message: "must be an integer" });
      else if ((f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max)) out.push({ path, message: `must be between ${f.min ?? "-∞"} and ${f.max ?? "∞"}` });
      return;
    case "boolean":
      if (typeof v !== "boolean") out.push({ path, message: "must be true or false" });
      return;
    case "enum":
      if (typeof v !== "string" || !f.values!.includes(v)) out.push({ path, message: `must be one of ${f.values!.join(", ")}` });
      return;
    case "string_list":
      if (!Array.isArray(v)) {
        out.push({ path, message: "must be a list of strings" });
        return;
      }
      if (v.length === 0) out.push({ path, message: "must not be empty" });
      else if (v.length > f.maxItems) out.push({ path, message: `must hold at most ${f.maxItems} items` });
      else v.forEach((item, i) => checkString(f, item, `${path}.${i}`, out));
      return;
  }
}

/**
 * Checks `config` against the entry's declared fields. `prefix` is prepended to paths ("config").
 * Unknown keys, wrong types, malformed values and missing required fields are issues.
 */
export function validateEntryConfig(entry: CatalogEntry, config: Record<string, unknown>, prefix = "config"): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const byName = new Map(entry.configFields.map((f) => [f.name, f]));
  for (const [key, value] of Object.entries(config)) {
    const f = byName.get(key);
    if (!f) {
      const known = entry.configFields.map((x) => x.name);
      out.push({ path: `${prefix}.${key}`, message: `is not a config field of ${entry.sourceType}${known.length ? ` (known: ${known.join(", ")})` : " (it takes none)"}` });
      continue;
    }
    if (value === null || value === undefined) {
      if (f.required) out.push({ path: `${prefix}.${key}`, message: `is required: ${f.description}` });
      continue;
    }
    checkFieldValue(f, value, `${prefix}.${key}`, out);
  }
  for (const f of entry.configFields) {
    if (f.required && f.default === undefined && !(f.name in config)) out.push({ path: `${prefix}.${f.name}`, message: `is required: ${f.description}` });
  }
  return out;
}

/** A value that satisfies the field (its example or default): for docs and the admission tests. */
export function exampleValue(f: ConfigField): unknown {
  return f.example ?? f.default ?? (f.type === "boolean" ? true : f.type === "integer" ? (f.min ?? 1) : f.type === "enum" ? f.values![0] : undefined);
}
