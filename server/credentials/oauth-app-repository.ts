/**
 * OAuth apps per tenant (issue 10 item 4): an admin registers a vendor's OAuth client on the
 * Settings page, for `consent:<provider>` or for `sp:<principal>`, and — where the vendor
 * registers a client per customer instance (catalog `clientPerInstance`: Zendesk, ServiceNow,
 * Snowflake, NetSuite, Workday, self-managed GitLab, Datadog sites) — for one instance host.
 * The client secret (or, for private_key_jwt and the service-account formats, the private key) is
 * sealed with AES-256-GCM (crypto.ts; AAD `tenant:oauth_app:<id>`) and never returned: listings
 * say only whether one is kept. Consent and sp: use a tenant's app before the install's
 * OAUTH_<P>_* / SP_<NAME>_* defaults. Every query is scoped by tenant; tenant B never sees A's apps.
 *
 * URL overrides are accepted only for per-instance vendors, only over https, and only on the
 * instance host or one of the vendor's fixed catalog hosts; the token request is then still made
 * through the pinned transport with public addresses only (an admin is not an operator).
 */
import { randomUUID } from "node:crypto";
import { recordAudit, type AuditActor } from "../audit/audit-repository";
import { CATALOG, getCatalogEntry } from "../connectors/catalog";
import { interpolate } from "../connectors/catalog/interpolate";
import type { Db } from "../db/client";
import { INSTANCE_HOST_RE } from "../env";
import { err, ok, type Result } from "../lib/result";
import { aadFor, decrypt, encrypt, type EncryptionKey } from "./crypto";

/** The form's fields, for `field`: which input a refusal concerns (the Settings page marks it). */
export type OAuthAppField = "provider" | "instanceHost" | "principal" | "clientId" | "clientSecret" | "assertionKeyId" | "authorizeUrl" | "tokenUrl";
export type OAuthAppError = { code: "INVALID" | "NOT_FOUND" | "CONFLICT" | "UNAVAILABLE"; message: string; field?: OAuthAppField };

/** What a listing shows: never the secret. */
export type OAuthAppView = {
  id: string;
  provider: string;
  providerName: string;
  instanceHost: string;
  principal: string;
  clientId: string;
  hasSecret: true;
  assertionKeyId: string | null;
  authorizeUrl: string | null;
  tokenUrl: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
};

export type OAuthAppInput = {
  provider: string;
  instanceHost?: string;
  principal?: string;
  clientId: string;
  /** required on add; on update, empty keeps the stored one */
  clientSecret?: string;
  assertionKeyId?: string;
  authorizeUrl?: string;
  tokenUrl?: string;
};

/** A tenant's app, unsealed, for the consent flow and sp: (server side only). */
export type ResolvedOAuthApp = { id: string; clientId: string; secret: string; assertionKeyId?: string; authorizeUrl?: string; tokenUrl?: string; instanceHost: string };

const PRINCIPAL = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
const aad = (tenantId: string, id: string) => aadFor(tenantId, `oauth_app:${id}`);

type Row = {
  id: string;
  provider: string;
  instanceHost: string;
  principal: string;
  clientId: string;
  assertionKeyId: string | null;
  authorizeUrl: string | null;
  tokenUrl: string | null;
  createdByLabel: string;
  createdAt: Date;
  updatedAt: Date;
};

function view(r: Row): OAuthAppView {
  return {
    id: r.id,
    provider: r.provider,
    providerName: getCatalogEntry(r.provider)?.displayName ?? r.provider,
    instanceHost: r.instanceHost,
    principal: r.principal,
    clientId: r.clientId,
    hasSecret: true,
    assertionKeyId: r.assertionKeyId,
    authorizeUrl: r.authorizeUrl,
    tokenUrl: r.tokenUrl,
    createdBy: r.createdByLabel,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

const SELECT = { id: true, provider: true, instanceHost: true, principal: true, clientId: true, assertionKeyId: true, authorizeUrl: true, tokenUrl: true, createdByLabel: true, createdAt: true, updatedAt: true } as const;

/**
 * Source types that can use an OAuth app: an oauth2 mode, or a service-account mode.
 * `endpointsRequired`: the catalog names no endpoint (Workday), so the app must give both URLs.
 */
export function oauthProviders(): { sourceType: string; displayName: string; perInstance: boolean; instanceHint: string | null; endpointsRequired: boolean }[] {
  return Object.values(CATALOG)
    .filter((e) => e.authModes.some((m) => m.type === "oauth2" || m.type === "service_account"))
    .map((e) => {
      const m = e.authModes.find((a) => a.type === "oauth2" && a.grant === "authorization_code") ?? e.authModes.find((a) => a.type === "oauth2");
      const perInstance = !!(m && m.type === "oauth2" && m.clientPerInstance);
      const template = m && m.type === "oauth2" ? instanceHostTemplate(m) : undefined;
      const endpointsRequired = !!(m && m.type === "oauth2" && m.endpoints === "oauth_app");
      return { sourceType: e.sourceType, displayName: e.displayName, perInstance, instanceHint: perInstance && template ? hostTemplate(template) : null, endpointsRequired };
    });
}

function hostTemplate(url: string): string | null {
  const m = /^https?:\/\/([^/?#]+)/i.exec(url);
  return m ? m[1]!.replace(/\{\{\s*config\.([a-z0-9_]+)\s*\}\}/gi, "<$1>") : null;
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith("*.")) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return p === host;
}

function validate(input: OAuthAppInput, adding: boolean): Result<Required<Pick<OAuthAppInput, "provider" | "clientId">> & { instanceHost: string; principal: string; authorizeUrl: string | null; tokenUrl: string | null; assertionKeyId: string | null }, OAuthAppError> {
  const bad = (message: string, field: OAuthAppField) => err<OAuthAppError>({ code: "INVALID", message, field });
  const entry = getCatalogEntry(input.provider);
  if (!entry) return bad(`"${input.provider.slice(0, 64)}" is not a connector in the catalog`, "provider");
  const modes = entry.authModes.filter((m) => m.type === "oauth2" || m.type === "service_account");
  if (modes.length === 0) return bad(`${entry.displayName} has no OAuth or service-account sign-in in the catalog`, "provider");
  const code = entry.authModes.find((m) => m.type === "oauth2" && m.grant === "authorization_code");
  const perInstance = entry.authModes.some((m) => m.type === "oauth2" && m.clientPerInstance);
  const instanceHost = (input.instanceHost ?? "").trim().toLowerCase().replace(/^https?:\/\//, "").replace(/\/+$/, "");
  if (instanceHost && !INSTANCE_HOST_RE.test(instanceHost)) return bad("The instance host must be a host name such as acme.zendesk.com (no scheme, no path)", "instanceHost");
  if (perInstance && !instanceHost) return bad(`${entry.displayName} registers an OAuth client per instance: name the instance host it belongs to`, "instanceHost");
  const principal = (input.principal ?? "").trim();
  if (principal && !PRINCIPAL.test(principal)) return bad("The service principal name may use letters, digits, - and _ (at most 64)", "principal");
  if (!principal && !code) return bad(`${entry.displayName} has no browser consent; name the service principal (sp:<name>) this client serves`, "principal");
  const clientId = input.clientId.trim();
  if (!clientId || clientId.length > 512 || /\s/.test(clientId)) return bad("The client id is required (at most 512 characters, no spaces)", "clientId");
  if (adding && !input.clientSecret) return bad("The client secret (or private key) is required", "clientSecret");
  if (input.clientSecret && input.clientSecret.length > 16_384) return bad("The client secret is too long", "clientSecret");
  const fixed = entry.allowedHosts.filter((h) => !h.includes("{{"));
  // a vendor that shows each customer its endpoints (Workday, catalog endpoints: oauth_app): the app names both
  const fromApp = code?.type === "oauth2" && code.endpoints === "oauth_app";
  if (fromApp && (!(input.authorizeUrl ?? "").trim() || !(input.tokenUrl ?? "").trim())) {
    return bad(`${entry.displayName} shows each customer its own authorization and token endpoints (they are not in the catalog): enter both URLs`, (input.authorizeUrl ?? "").trim() ? "tokenUrl" : "authorizeUrl");
  }
  // the browser is sent to the authorization URL (no secret goes there): it may also be on a host the entry's host fields accept (Workday's auth_host)
  const hostFields = entry.configFields.filter((f) => f.format === "hostname" && f.pattern).map((f) => new RegExp(f.pattern!));
  const checkUrl = (label: string, field: "authorizeUrl" | "tokenUrl", raw: string | undefined, browserOnly = false): Result<string | null, OAuthAppError> => {
    const v = (raw ?? "").trim();
    if (!v) return ok(null);
    if (!perInstance) return bad(`${entry.displayName}'s ${label} comes from the catalog; only per-instance vendors take an override`, field);
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return bad(`The ${label} is not a valid URL`, field);
    }
    if (u.protocol !== "https:") return bad(`The ${label} must use https`, field);
    if (u.username || u.password || u.hash) return bad(`The ${label} may not carry credentials or a fragment`, field);
    const host = u.host.toLowerCase();
    const byField = browserOnly && !u.port && hostFields.some((re) => re.test(host));
    if (host !== instanceHost && !byField && !fixed.some((p) => hostMatches(p, u.hostname.toLowerCase()))) {
      return bad(`The ${label} must be on the instance host ${instanceHost} or one of ${entry.displayName}'s hosts (${fixed.join(", ") || "none"})`, field);
    }
    return ok(u.toString());
  };
  const a = checkUrl("authorization URL", "authorizeUrl", input.authorizeUrl, true);
  if (!a.ok) return a;
  const t = checkUrl("token URL", "tokenUrl", input.tokenUrl);
  if (!t.ok) return t;
  const kid = (input.assertionKeyId ?? "").trim();
  if (kid.length > 256) return bad("The key id is too long", "assertionKeyId");
  return ok({ provider: entry.sourceType, clientId, instanceHost, principal, authorizeUrl: a.value, tokenUrl: t.value, assertionKeyId: kid || null });
}

export async function listOAuthApps(db: Db, tenantId: string): Promise<OAuthAppView[]> {
  const rows = await db.oAuthApp.findMany({ where: { tenantId }, select: SELECT, orderBy: [{ provider: "asc" }, { instanceHost: "asc" }, { principal: "asc" }] });
  return rows.map(view);
}

const isUnique = (e: unknown) => (e as { code?: string })?.code === "P2002";
const label = (v: OAuthAppView | { provider: string; instanceHost: string; principal: string }) =>
  `oauth_app:${v.provider}${v.instanceHost ? `@${v.instanceHost}` : ""}${v.principal ? `#sp:${v.principal}` : ""}`;

export async function addOAuthApp(db: Db, key: EncryptionKey | undefined, tenantId: string, actor: AuditActor, input: OAuthAppInput): Promise<Result<OAuthAppView, OAuthAppError>> {
  if (!key) return err({ code: "UNAVAILABLE", message: "The server has no encryption key (ENCRYPTION_KEY), so it cannot keep client secrets." });
  const v = validate(input, true);
  if (!v.ok) return v;
  const id = randomUUID();
  const sealed = encrypt(key, input.clientSecret!, aad(tenantId, id));
  try {
    const row = await db.oAuthApp.create({
      data: {
        id,
        tenantId,
        ...v.value,
        secretCiphertext: new Uint8Array(sealed.ciphertext),
        secretIv: new Uint8Array(sealed.iv),
        secretTag: new Uint8Array(sealed.tag),
        keyId: sealed.keyId,
        createdById: actor.id ?? null,
        createdByLabel: actor.label,
      },
      select: SELECT,
    });
    await recordAudit(db, tenantId, actor, "oauth_app.added", label(row), { provider: row.provider, instanceHost: row.instanceHost, principal: row.principal, clientId: row.clientId });
    return ok(view(row));
  } catch (e) {
    if (isUnique(e)) return err({ code: "CONFLICT", message: "An OAuth app for this vendor, instance and principal is already registered: edit it instead" });
    throw e;
  }
}

export async function updateOAuthApp(db: Db, key: EncryptionKey | undefined, tenantId: string, actor: AuditActor, id: string, input: OAuthAppInput): Promise<Result<OAuthAppView, OAuthAppError>> {
  const existing = await db.oAuthApp.findFirst({ where: { id, tenantId }, select: { id: true } });
  if (!existing) return err({ code: "NOT_FOUND", message: "No OAuth app with this id in your organisation." });
  const v = validate(input, false);
  if (!v.ok) return v;
  if (input.clientSecret && !key) return err({ code: "UNAVAILABLE", message: "The server has no encryption key (ENCRYPTION_KEY), so it cannot keep client secrets." });
  const sealed = input.clientSecret && key ? encrypt(key, input.clientSecret, aad(tenantId, id)) : undefined;
  try {
    const row = await db.oAuthApp.update({
      where: { id },
      data: { ...v.value, ...(sealed ? { secretCiphertext: new Uint8Array(sealed.ciphertext), secretIv: new Uint8Array(sealed.iv), secretTag: new Uint8Array(sealed.tag), keyId: sealed.keyId } : {}) },
      select: SELECT,
    });
    await recordAudit(db, tenantId, actor, "oauth_app.updated", label(row), { provider: row.provider, instanceHost: row.instanceHost, principal: row.principal, clientId: row.clientId, secretReplaced: !!sealed });
    return ok(view(row));
  } catch (e) {
    if (isUnique(e)) return err({ code: "CONFLICT", message: "An OAuth app for this vendor, instance and principal is already registered" });
    throw e;
  }
}

export async function removeOAuthApp(db: Db, tenantId: string, actor: AuditActor, id: string): Promise<Result<OAuthAppView, OAuthAppError>> {
  const row = await db.oAuthApp.findFirst({ where: { id, tenantId }, select: SELECT });
  if (!row) return err({ code: "NOT_FOUND", message: "No OAuth app with this id in your organisation." });
  await db.oAuthApp.deleteMany({ where: { id, tenantId } });
  await recordAudit(db, tenantId, actor, "oauth_app.removed", label(row), { provider: row.provider, instanceHost: row.instanceHost, principal: row.principal });
  return ok(view(row));
}

/** The template naming a per-instance client's host: the catalog's token URL, else its `instanceHost` (Workday). */
export function instanceHostTemplate(mode: { tokenUrl?: string; instanceHost?: string }): string | undefined {
  return mode.tokenUrl ?? (mode.instanceHost ? `https://${mode.instanceHost}` : undefined);
}

/**
 * The host a connection's instance is on, for matching a per-instance app: the catalog token URL's
 * host filled with the connection's config (string comparison only; nothing is sent there unless
 * an admin registered exactly this host).
 */
export function connectionInstanceHost(template: string | undefined, config: Record<string, unknown>): string {
  if (!template) return "";
  const m = /^https?:\/\/([^/?#]+)/i.exec(template);
  if (!m) return "";
  try {
    return interpolate(m[1]!, { config }).toLowerCase();
  } catch {
    return "";
  }
}

/**
 * The tenant's app for `consent:<provider>` (principal '') or `sp:<principal>`: the one for this
 * instance host, else (vendors with one host) the one without a host. Null when none is
 * registered; an error when one is but cannot be unsealed.
 */
export async function findOAuthApp(db: Db, key: EncryptionKey | undefined, tenantId: string, provider: string, opts: { instanceHost: string; principal?: string }): Promise<Result<ResolvedOAuthApp | null, string>> {
  const hosts = [...new Set([opts.instanceHost, ""])];
  const rows = await db.oAuthApp.findMany({ where: { tenantId, provider, principal: opts.principal ?? "", instanceHost: { in: hosts } } });
  const perInstance = getCatalogEntry(provider)?.authModes.some((m) => m.type === "oauth2" && m.clientPerInstance) ?? false;
  const row = rows.find((r) => r.instanceHost === opts.instanceHost && r.instanceHost !== "") ?? (perInstance ? undefined : rows.find((r) => r.instanceHost === ""));
  if (!row) return ok(null);
  if (!key) return err("the organisation's OAuth app cannot be read: ENCRYPTION_KEY is not configured");
  const secret = decrypt(key, { ciphertext: Buffer.from(row.secretCiphertext), iv: Buffer.from(row.secretIv), tag: Buffer.from(row.secretTag), keyId: row.keyId }, aad(tenantId, row.id));
  if (!secret.ok) return err(`the organisation's OAuth app for ${provider} cannot be read (${secret.error}); an admin must enter its secret again`);
  return ok({
    id: row.id,
    clientId: row.clientId,
    secret: secret.value,
    instanceHost: row.instanceHost,
    ...(row.assertionKeyId ? { assertionKeyId: row.assertionKeyId } : {}),
    ...(row.authorizeUrl ? { authorizeUrl: row.authorizeUrl } : {}),
    ...(row.tokenUrl ? { tokenUrl: row.tokenUrl } : {}),
  });
}
