/**
 * Salesforce REST driver. The instance URL comes from the OAuth token response
 * (`secret.instance_url`, which must be one of the entry's Salesforce hosts) or
 * `config.instance_url` (`config.base_url` overrides both: sandboxes, approved hosts); a
 * config-named host is reached only when the destination grant permits it.
 * Health: GET /services/data/vXX.X/limits. Discovery: describeGlobal (GET …/sobjects) then
 * …/sobjects/{name}/describe for a few queryable objects: field names, types, nillable — no rows.
 * Sample: SOQL `SELECT <fields> FROM <object> LIMIT n` via GET …/query?q=, following
 * nextRecordsUrl only while the ≤ 20-record budget needs it. GET only, through Safe Mode's HTTP path.
 *
 * Named resources (issue 10 item 7): every intent resource id and every sObject `config.objects`
 * names is checked by discovery. An org id (`org_00D…` or a bare 15/18-character `00D…` id) must be
 * the org the token belongs to (`SELECT Id FROM Organization`, one row of the org's own record);
 * an sObject must be in describeGlobal and queryable, else its describe tells: 404 NOT_FOUND →
 * absent (HEALING), 401/403 (INSUFFICIENT_ACCESS) → not visible to the credential.
 */
import { err, ok } from "../../lib/result";
import { getCatalogEntry } from "../catalog";
import { effectiveConfig } from "../catalog/interpolate";
import { type SafeHttp, defaultSafeHttp, hostMatches, redact } from "../safe-mode/http";
import { checkApiBase } from "../safe-mode/destinations";
import { sandboxNotRunning } from "../sandbox/refs";
import type { ConnectorContext, ConnectorResult, FieldInfo, NamedResourceCheck, SampleRecord, SourceAdapter, StreamInfo } from "../types";
import { failWith, recordBudget, unmetExpectations } from "./rest";

/** Standard objects worth a first look, in order, when config.objects does not name any. */
const PREFERRED = ["Account", "Contact", "Opportunity", "Lead", "Case", "User"];
const MAX_OBJECTS = 5;
const MAX_SOQL_FIELDS = 20;
/** compound and binary fields cannot (or should not) be selected in a tiny sample */
const SKIP_TYPES = new Set(["address", "location", "base64", "complexvalue"]);
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** an org id as intents name it: `org_<id>`, or Salesforce's own 15/18-character id with the Organization key prefix 00D */
const ORG_ID = /^(?:org_(.+)|(00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?))$/;

type Sf = { base: string; version: string; headers: Record<string, string>; allowedHosts: string[] | undefined; objects?: string[]; expect?: NonNullable<NonNullable<ReturnType<typeof getCatalogEntry>>["health"]>["expect"] };

/** The host (lower-case, with a port when it has one) of a URL, or undefined. */
function hostOf(v: string | undefined): string | undefined {
  try {
    return v ? new URL(v).host.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

function resolve(ctx: ConnectorContext): ConnectorResult<Sf> {
  const entry = getCatalogEntry(ctx.sourceType);
  if (!entry || entry.driver !== "salesforce") return err({ kind: "unsupported", message: `${ctx.sourceType} is not a Salesforce source` });
  const config = effectiveConfig(entry, ctx.config);
  for (const field of ["base_url", "instance_url"]) {
    const unexpanded = sandboxNotRunning(field, config[field]);
    if (unexpanded) return err(unexpanded);
  }
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  // 1. config.base_url (a running sandbox, or a host the tenant approved); 2. the token response's
  // instance_url, which must be one of Salesforce's own hosts; 3. config.instance_url.
  const override = str(config.base_url);
  const fromToken = override ? undefined : str(ctx.secret.instance_url);
  const instance = override ?? fromToken ?? str(config.instance_url);
  if (!instance) return err({ kind: "other", message: "the Salesforce instance URL is unknown (token instance_url or config.instance_url)" });
  // the org's origin: the driver appends /services/data/… to it, so a path or query of the intent's
  // own (an Apex REST endpoint, a query) on Salesforce's hosts would choose the request
  const checked = checkApiBase(ctx.destinations, instance, { label: "the Salesforce instance URL", vendor: "Salesforce", catalogPath: "" });
  if (!checked.ok) return checked;
  const url = checked.value;
  // the token names the org it was issued for: config.base_url may point at a proxy or a running
  // sandbox (the grant decides), never at another Salesforce org's host
  const issuedFor = override ? hostOf(str(ctx.secret.instance_url)) : undefined;
  if (issuedFor && hostMatches(url, entry.allowedHosts) && url.host.toLowerCase() !== issuedFor) {
    return err({ kind: "egress_refused", message: `the credential was issued for the Salesforce org at ${issuedFor}; config.base_url names another Salesforce host (${url.host}), and the token is never sent to another org` });
  }
  if (fromToken && (url.protocol !== "https:" || !hostMatches(url, entry.allowedHosts))) {
    // the access token is never sent to a host the token endpoint named unless it is Salesforce's
    return err({
      kind: "egress_refused",
      message: `Destination not approved: the token's instance_url host ${url.host} is not one of Salesforce's hosts (${entry.allowedHosts.join(", ")})`,
    });
  }
  const version = String(config.api_version ?? "v62.0");
  if (!/^v\d{2,3}\.\d$/.test(version)) return err({ kind: "other", message: `invalid Salesforce API version ${version}` });
  const token = ctx.secret.access_token ?? ctx.secret.token;
  if (!token) return err({ kind: "auth", message: "the credential has no access_token" });
  const objects =
    typeof config.objects === "string"
      ? config.objects
          .split(",")
          .map((s) => s.trim())
          .filter((s) => NAME.test(s))
      : undefined;
  return ok({
    base: url.toString().replace(/\/+$/, ""),
    version,
    headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
    // the vendor's hosts for the token's instance; otherwise the destination grant alone decides
    // (catalog vendor hosts, the tenant's approved destinations, running sandboxes)
    allowedHosts: fromToken ? entry.allowedHosts : undefined,
    objects,
    expect: entry.health?.expect,
  });
}

export function createSalesforceDriver(http: SafeHttp = defaultSafeHttp): SourceAdapter {
  async function get(ctx: ConnectorContext, sf: Sf, pathAndQuery: string): Promise<ConnectorResult<unknown>> {
    const res = await http.fetch(ctx, { method: "GET", url: sf.base + pathAndQuery, headers: sf.headers, allowedHosts: sf.allowedHosts });
    if (!res.ok) return failWith(ctx, res.error);
    try {
      return ok(res.value.json());
    } catch {
      return err({ kind: "other", message: "Salesforce answered with something other than JSON" });
    }
  }

  const api = (sf: Sf, rest: string) => `/services/data/${sf.version}${rest}`;

  /** The id of the org the token belongs to (its own Organization record), or the failure. */
  async function orgIdOf(ctx: ConnectorContext, sf: Sf): Promise<ConnectorResult<string | undefined>> {
    const res = await get(ctx, sf, `${api(sf, "/query")}?q=${encodeURIComponent("SELECT Id FROM Organization LIMIT 1")}`);
    if (!res.ok) return res;
    const id = (res.value as { records?: { Id?: unknown }[] }).records?.[0]?.Id;
    return ok(typeof id === "string" ? id : undefined);
  }

  async function checkNamedResources(ctx: ConnectorContext, sf: Sf, listed: { name?: unknown; queryable?: unknown }[]): Promise<ConnectorResult<NamedResourceCheck[]>> {
    const ids = [...new Set([...ctx.resourceIds, ...(sf.objects ?? [])])];
    const byName = new Map(listed.filter((o) => typeof o.name === "string").map((o) => [(o.name as string).toLowerCase(), o]));
    const out: NamedResourceCheck[] = [];
    let org: ConnectorResult<string | undefined> | undefined;
    for (const id of ids) {
      const orgMatch = ORG_ID.exec(id);
      if (orgMatch) {
        const wanted = orgMatch[1] ?? orgMatch[2]!;
        org ??= await orgIdOf(ctx, sf);
        if (!org.ok) {
          if (org.error.kind !== "auth" && org.error.kind !== "other") return org;
          out.push({ id, kind: "Salesforce org", found: false, reason: "not_visible", detail: `the credential may not read its Organization record (${org.error.message})` });
          continue;
        }
        // 15-character ids are case-sensitive; the 18-character form adds a case-safe suffix
        const own = org.value;
        const same = own !== undefined && (own === wanted || (wanted.length === 15 && own.slice(0, 15) === wanted) || (own.length === 15 && wanted.slice(0, 15) === own));
        out.push(same ? { id, kind: "Salesforce org", found: true } : { id, kind: "Salesforce org", found: false, reason: "not_visible", detail: `the credential belongs to org ${own ?? "(unknown)"}, not ${wanted}` });
        continue;
      }
      if (!NAME.test(id)) {
        out.push({ id, kind: "sObject", found: false, reason: "absent", detail: "not an sObject API name or a Salesforce org id" });
        continue;
      }
      const o = byName.get(id.toLowerCase());
      if (o) {
        out.push(o.queryable === true ? { id, kind: "sObject", found: true } : { id, kind: "sObject", found: false, reason: "absent", detail: "it exists but is not queryable" });
        continue;
      }
      // not in describeGlobal: its describe says whether it is absent (404) or hidden from this user (403 INSUFFICIENT_ACCESS)
      const d = await http.fetch(ctx, { method: "GET", url: sf.base + api(sf, `/sobjects/${encodeURIComponent(id)}/describe`), headers: sf.headers, allowedHosts: sf.allowedHosts });
      if (d.ok) out.push({ id, kind: "sObject", found: true });
      else if (d.error.kind === "auth") out.push({ id, kind: "sObject", found: false, reason: "not_visible", detail: "the credential may not see it (INSUFFICIENT_ACCESS)" });
      else if (/HTTP (404|410)\b/.test(d.error.message)) out.push({ id, kind: "sObject", found: false, reason: "absent", detail: "the org has no such sObject (NOT_FOUND)" });
      else return failWith(ctx, d.error);
    }
    return ok(out);
  }

  return {
    async healthCheck(ctx) {
      const sf = resolve(ctx);
      if (!sf.ok) return sf;
      const t0 = performance.now();
      const res = await get(ctx, sf.value, api(sf.value, "/limits"));
      if (!res.ok) return res;
      // the far side must answer as Salesforce documents the Limits resource, not merely 200
      const unmet = unmetExpectations(res.value, sf.value.expect);
      if (unmet) return err({ kind: "other", message: `the far side did not answer GET ${api(sf.value, "/limits")} as Salesforce documents (${unmet}): not the vendor's API` });
      return ok({ latencyMs: Math.round(performance.now() - t0), detail: `Salesforce ${sf.value.version} reachable` });
    },

    async discover(ctx) {
      const sf = resolve(ctx);
      if (!sf.ok) return sf;
      const global = await get(ctx, sf.value, api(sf.value, "/sobjects"));
      if (!global.ok) return global;
      const listed = (global.value as { sobjects?: { name?: unknown; queryable?: unknown; custom?: unknown }[] }).sobjects ?? [];
      const all = listed.filter(
        (o) => typeof o.name === "string" && NAME.test(o.name) && o.queryable === true,
      );
      const names = new Set(all.map((o) => o.name as string));
      const wanted = sf.value.objects?.length ? sf.value.objects : PREFERRED;
      let chosen = wanted.filter((n) => names.has(n));
      if (chosen.length === 0) chosen = all.filter((o) => o.custom !== true).map((o) => o.name as string);
      chosen = chosen.slice(0, MAX_OBJECTS);

      const streams: StreamInfo[] = [];
      for (const name of chosen) {
        const d = await get(ctx, sf.value, api(sf.value, `/sobjects/${encodeURIComponent(name)}/describe`));
        if (!d.ok) {
          if (d.error.kind === "other") continue; // one object we may not describe does not sink discovery
          return d;
        }
        const fields: FieldInfo[] = ((d.value as { fields?: { name?: unknown; type?: unknown; nillable?: unknown }[] }).fields ?? [])
          .filter((f) => typeof f.name === "string")
          .map((f) => ({ name: f.name as string, type: String(f.type ?? "string"), nullable: f.nillable === true }));
        streams.push({ name, fields });
      }
      const resources = await checkNamedResources(ctx, sf.value, listed);
      if (!resources.ok) return resources;
      return ok({ streams, ...(resources.value.length ? { resources: resources.value } : {}) });
    },

    async sample(ctx, schema) {
      const sf = resolve(ctx);
      if (!sf.ok) return sf;
      const out: SampleRecord[] = [];
      const streams = schema.streams.filter((s) => NAME.test(s.name));
      for (const [i, s] of streams.entries()) {
        const budget = recordBudget(ctx) - out.length;
        if (budget <= 0) break;
        const share = Math.ceil(budget / (streams.length - i));
        const fields = s.fields.filter((f) => NAME.test(f.name) && !SKIP_TYPES.has(f.type)).map((f) => f.name);
        const select = ["Id", ...fields.filter((f) => f !== "Id")].slice(0, MAX_SOQL_FIELDS);
        const soql = `SELECT ${select.join(", ")} FROM ${s.name} LIMIT ${share}`;
        let path = `${api(sf.value, "/query")}?q=${encodeURIComponent(soql)}`;
        let got = 0;
        for (let page = 0; page < 10 && got < share; page++) {
          const res = await get(ctx, sf.value, path);
          if (!res.ok) return res;
          const body = res.value as { records?: Record<string, unknown>[]; done?: boolean; nextRecordsUrl?: string };
          for (const rec of (body.records ?? []).slice(0, share - got)) {
            const { attributes: _attributes, ...data } = rec;
            out.push({ stream: s.name, data });
            got++;
          }
          if (body.done !== false || !body.nextRecordsUrl || !body.nextRecordsUrl.startsWith("/services/data/")) break;
          path = body.nextRecordsUrl;
        }
      }
      return ok(out.slice(0, recordBudget(ctx)));
    },
  };
}

export const salesforceDriver = createSalesforceDriver();
