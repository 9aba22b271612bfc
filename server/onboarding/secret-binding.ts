/**
 * A tenant's own secret goes where it was first used, or where an admin allowed it — never where
 * an intent alone points it (DESIGN.md "The trust boundary": the intent proposes, it never
 * decides which secret goes where).
 *
 * Without this, a locator is only a name: an API key holder who knows `env:AAM_SECRET_ACME_SN`
 * (meant for `acme.service-now.com`) could post `source_type: servicenow, config.instance: evil`
 * and the catalog's own host template would carry the token to `evil.service-now.com` — a vendor
 * host, so the destination check passes — or name it for another connector altogether. So each
 * `env:`, `vault:` and `sp:` locator is bound to a source type and a destination: the API base
 * its config makes and every config value that decides where requests go, each by name, as one
 * canonical line (secretDestination). The first attempt that uses a locator binds it (in the
 * open: the Settings page lists every binding, the audit log records it) once the source accepted
 * it; an attempt for another source type or destination is refused before the secret is even
 * read — NETWORK_BLOCKED, "destination not approved for this secret", in words — until an admin
 * allows the secret there (the connection's page) or removes the binding.
 * An organisation can have its admins approve every secret's first destination too (Settings:
 * then a secret bound nowhere waits for "Allow this secret here" instead of being bound by its
 * first use, closing the window in which whoever uses a locator first decides where it goes).
 * An `sp:` principal serves the connectors the operator lists (SP_<NAME>_SOURCE_TYPES), so it is
 * bound once per source type. `consent:` tokens are already bound to the token endpoint and site
 * the admin consented at (credentials/resolver.ts), and the sandboxes' own test secrets
 * (SANDBOX_*) work only against the sandboxes, so neither is bound here.
 */
import { createHash } from "node:crypto";
import { getCatalogEntry } from "../connectors/catalog";
import { effectiveConfig, interpolate } from "../connectors/catalog/interpolate";
import { SANDBOX_SECRET_ENV_VARS } from "../connectors/sandbox/secret-env";
import { parseLocator } from "../credentials/locator";
import type { Db } from "../db/client";
import { lru } from "../lib/lru";
import { bindOnFirstUse, lookupBinding } from "./secret-binding-repository";
import { secretBindingApprovalFor } from "./settings-repository";

const SANDBOX_SECRETS: ReadonlySet<string> = new Set(SANDBOX_SECRET_ENV_VARS);

/**
 * How a locator is bound — "all": one set of destinations for every use; "per_type": per source
 * type (sp:) — and under which name: every spelling of one secret binds as one. A scheme in
 * capitals (`ENV:`), a Vault path with or without its `#key` (the whole secret holds every key),
 * an `sp:` name in another case or with other separators (`sp:En-Tra` is `SP_EN_TRA` like
 * `sp:en_tra`) are the same secret, so they share a binding.
 */
export function bindingOf(locator: string): { kind: "all" | "per_type"; key: string } | null {
  const p = parseLocator(locator);
  if (!p.ok) return null;
  const l = p.value;
  switch (l.scheme) {
    case "env":
      return SANDBOX_SECRETS.has(l.name) ? null : { kind: "all", key: `env:${l.name}` };
    case "vault":
      return { kind: "all", key: `vault:${l.path}` };
    case "sp":
      return { kind: "per_type", key: `sp:${l.name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}` };
    default:
      return null;
  }
}

/** How a locator is bound (bindingOf), or null when it is not. */
export const bindingKind = (locator: string): "all" | "per_type" | null => bindingOf(locator)?.kind ?? null;

/** Formats whose values say where a connection goes (a host, an instance label, a tenant, a region, a URL). */
const LOCATING_FORMATS: ReadonlySet<string> = new Set(["hostname", "host", "dns_label", "uuid_or_hostname", "aws_region", "url", "https_url"]);

/** A URL as where it points: scheme, host and port in lower case, the path without trailing slashes, the query; never a fragment. */
function urlPoint(value: string): string {
  try {
    const u = new URL(value);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}${u.search}`.replace(/^[a-z]+:\/\/[^/]+/i, (m) => m.toLowerCase());
  } catch {
    return value;
  }
}

function valuePoint(value: unknown, format: string | undefined): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (Array.isArray(value)) return value.map(String).join("|");
  if (typeof value !== "string") return String(value);
  if (value.startsWith("sandbox:")) return value;
  if (format === "url" || format === "https_url") return urlPoint(value);
  if (format === "host" || format === "hostname" || format === "uuid_or_hostname" || format === "dns_label") return value.toLowerCase().replace(/\.$/, "");
  return value;
}

/** Per source type (catalog data): the config fields its base, host and token URL templates fill in. */
const TEMPLATE_FIELDS = new Map<string, ReadonlySet<string>>();
function templateFields(sourceType: string, entry: NonNullable<ReturnType<typeof getCatalogEntry>>): ReadonlySet<string> {
  let fields = TEMPLATE_FIELDS.get(sourceType);
  if (!fields) {
    const templates = [entry.baseUrl ?? "", ...entry.allowedHosts, JSON.stringify(entry.authModes)].join(" ");
    fields = new Set([...templates.matchAll(/\{\{\s*config\.([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1]!));
    TEMPLATE_FIELDS.set(sourceType, fields);
  }
  return fields;
}

/**
 * Where a connection would send its secret, from the intent's config as admitted (sandbox
 * references unexpanded, so a restart's new ports bind nothing new), as one line: the API base
 * the catalog makes of the config (`https://acme.service-now.com/api/now`; none when `base_url`
 * replaces it), then, each named, every config value that decides where requests or token
 * requests go — the entry's destination fields (`base_url`, `spec_url`, `host`, `endpoint` …,
 * URLs with their path: a shared gateway serves many tenants by path), fields of a locating
 * format (host, instance label, tenant, region), fields its host, base or token URL templates
 * fill in, the port, and a digest of an inline OpenAPI document (its `servers` say where the
 * API is). Named, so two fields swapping values is another destination. Empty for a connector
 * with none of them (its secret names its own destination, a DSN).
 */
export function secretDestination(sourceType: string, config: Record<string, unknown>): string {
  const entry = getCatalogEntry(sourceType);
  if (!entry) return "";
  const eff = effectiveConfig(entry, config);
  const points: string[] = [];
  const overridden = entry.configFields.some((f) => f.name === "base_url") && typeof eff.base_url === "string" && eff.base_url !== "";
  if (!overridden && entry.baseUrl) {
    try {
      points.push(urlPoint(interpolate(entry.baseUrl, { config: eff })));
    } catch {
      /* an unset variable: the attempt fails before any request */
    }
  }
  const filled = templateFields(sourceType, entry);
  for (const f of entry.configFields) {
    if (f.name === "spec" && typeof eff.spec === "string" && eff.spec !== "") {
      points.push(`spec=sha256:${createHash("sha256").update(eff.spec).digest("hex").slice(0, 16)}`);
      continue;
    }
    if (!(f.destination || (f.format && LOCATING_FORMATS.has(f.format)) || filled.has(f.name) || f.name === "port")) continue;
    const v = valuePoint(eff[f.name], f.format);
    if (v !== null) points.push(`${f.name}=${v}`);
  }
  return points.join(", ");
}

export type BindingRefusal = { locator: string; sourceType: string; destination: string; message: string };

const where = (sourceType: string, destination: string) => `${sourceType}${destination ? ` at ${destination}` : ""}`;

/**
 * The reason a refused connection carries (the REST API returns it to the key holder): where this
 * connection would send the secret, how many places it is bound to — never which ones (an API key
 * probing locators must not learn the organisation's hosts); the connection page shows them to admins.
 */
export function refusalMessage(locator: string, sourceType: string, destination: string, boundTo: number): string {
  const others = boundTo === 1 ? "another destination" : `${boundTo.toLocaleString("en-US")} other destinations`;
  return `Destination not approved for this secret: ${locator} is bound to ${others} (where it was first used, or an admin allowed it), and this connection would send it to ${where(sourceType, destination)}. It was not read. An admin can allow it here on this connection's page, or review where it may go in Settings`;
}

/** The reason when the organisation approves every secret's first destination and this one is bound nowhere yet. */
export function firstUseMessage(locator: string, sourceType: string, destination: string): string {
  return `Destination not approved for this secret: this organisation's admins approve where each secret may go, and ${locator} is bound nowhere yet; this connection would send it to ${where(sourceType, destination)}. It was not read. An admin can allow it here on this connection's page`;
}

/**
 * Allowed (tenant, locator, source type, destination) seen by this process, for a moment: the
 * check then costs no round trip. A binding an admin removes stops allowing at once in the
 * admin's process (forgetAllowedBindings) and within this long in every other one — as long as
 * a removed approved destination takes (destination-grant.ts): the price is one lookup per secret
 * and destination per process every 2 s, however many attempts use them.
 */
export const ALLOWED_TTL_MS = 2_000;
const allowed = lru<string, number>(20_000);
const cacheKey = (tenantId: string, locator: string, sourceType: string, destination: string) => JSON.stringify([tenantId, locator, sourceType, destination]);

/** Lookups and first bindings in flight in this process, per cache key (bounded by the attempts running). */
const judging = new Map<string, ReturnType<typeof judgeUse>>();
const confirming = new Map<string, Promise<void>>();

/** Drops this process's remembered allowances (after an admin removes a binding; other processes forget within ALLOWED_TTL_MS). */
export function forgetAllowedBindings(): void {
  allowed.clear();
}

export type BindingCheck =
  | { ok: true; bindOnSuccess?: { tenantId: string; locator: string; sourceType: string; destination: string; sameTypeOnly: boolean } }
  | { ok: false; refusal: BindingRefusal };

/**
 * How one use of a locator stands (the attempt's check and the connection page share it): the
 * locator's binding name and kind, where this use would send it, whether that is bound, and what
 * it is compared with — or null for a locator that is not bound (consent:, the sandboxes').
 */
export async function judgeUse(db: Db, c: { tenantId: string; locator: string; sourceType: string; config: Record<string, unknown> }) {
  const b = bindingOf(c.locator);
  if (!b) return null;
  const destination = secretDestination(c.sourceType, c.config);
  const found = await lookupBinding(db, { tenantId: c.tenantId, locator: b.key, sourceType: c.sourceType, destination }, b.kind === "per_type");
  // bound nowhere: allowed (and bound by its first success) unless the organisation's admins approve first uses
  const allowed = found.total === 0 ? !(await secretBindingApprovalFor(db, c.tenantId)) : found.matched;
  return { key: b.key, kind: b.kind, destination, allowed, ...found };
}

/**
 * Checks — before the secret is read — that this connection may use its locator: it is bound to
 * this source type and destination, or bound nowhere yet (then `bindOnSuccess`: the attempt binds
 * it once the source accepted it, `confirmFirstUse`). A use that never got through (a destination
 * not approved, a wrong secret) binds nothing, so it cannot lock the secret away from where it
 * belongs.
 */
export async function checkSecretBinding(db: Db, c: { tenantId: string; locator: string; sourceType: string; config: Record<string, unknown> }): Promise<BindingCheck> {
  const b = bindingOf(c.locator);
  if (!b) return { ok: true };
  const key = cacheKey(c.tenantId, b.key, c.sourceType, secretDestination(c.sourceType, c.config));
  const seen = allowed.get(key);
  if (seen !== undefined && Date.now() - seen < ALLOWED_TTL_MS) return { ok: true };
  // concurrent attempts with the same secret and destination (a batch's first wave) share one lookup
  let pending = judging.get(key);
  if (!pending) {
    pending = judgeUse(db, c).finally(() => judging.delete(key));
    judging.set(key, pending);
  }
  const use = (await pending)!;
  const refusal = { locator: use.key, sourceType: c.sourceType, destination: use.destination };
  if (!use.allowed) return { ok: false, refusal: { ...refusal, message: use.total === 0 ? firstUseMessage(c.locator, c.sourceType, use.destination) : refusalMessage(c.locator, c.sourceType, use.destination, use.total) } };
  if (use.total === 0) return { ok: true, bindOnSuccess: { tenantId: c.tenantId, locator: use.key, sourceType: c.sourceType, destination: use.destination, sameTypeOnly: use.kind === "per_type" } };
  allowed.set(key, Date.now());
  return { ok: true };
}

/** After the source accepted the secret (health check passed): binds a locator that was bound nowhere (or, in a race, leaves the binding that won). */
export async function confirmFirstUse(db: Db, b: NonNullable<Extract<BindingCheck, { ok: true }>["bindOnSuccess"]>, connectionId: string): Promise<void> {
  const key = cacheKey(b.tenantId, b.locator, b.sourceType, b.destination);
  if (allowed.has(key)) return;
  // one binding transaction per secret and destination in this process, however many attempts confirm at once
  let pending = confirming.get(key);
  if (!pending) {
    pending = bindOnFirstUse(db, b, { connectionId, sameTypeOnly: b.sameTypeOnly })
      .then(({ bound }) => void (bound && allowed.set(key, Date.now())))
      .finally(() => confirming.delete(key));
    confirming.set(key, pending);
  }
  await pending;
}
