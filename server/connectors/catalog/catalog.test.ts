import { describe, expect, it } from "vitest";
import { ALLOWLIST } from "../allowlist";
import { DRIVERS } from "../registry";
import { preflight } from "../safe-mode/http";
import { CATALOG, RAW_ENTRIES, getCatalogEntry } from "./index";
import { exampleValue, validateEntryConfig } from "./config-fields";
import { interpolateDeep } from "./interpolate";
import { STRICT_PROVENANCE, ZCatalogEntry, ZRef, adminInputFacts, entryFacts, findReadOnlyPost, interpolationVariables, isReadOnlyScope, requestedScopes, unreferencedFacts } from "./schema";

describe("connector catalog", () => {
  it("validates every entry against the schema", () => {
    for (const raw of RAW_ENTRIES) {
      const r = ZCatalogEntry.safeParse(raw);
      expect(r.success, `${raw.sourceType}: ${r.success ? "" : JSON.stringify(r.error.issues)}`).toBe(true);
    }
  });

  it("has exactly one entry per allowlisted source type (33)", () => {
    expect(Object.keys(CATALOG).sort()).toEqual([...ALLOWLIST].sort());
    expect(RAW_ENTRIES).toHaveLength(33);
    expect(getCatalogEntry("slack")?.driver).toBe("rest");
    expect(getCatalogEntry("not_a_source")).toBeUndefined();
    expect(getCatalogEntry("constructor")).toBeUndefined();
  });

  it("names only drivers that exist in the static registry", () => {
    const missing = Object.values(CATALOG)
      .filter((e) => !Object.hasOwn(DRIVERS, e.driver))
      .map((e) => `${e.sourceType} → ${e.driver}`);
    expect(missing).toEqual([]);
  });

  it("asks only for read-only scopes, or says in words why a vendor has none (readOnlyGrant + privilegeNote)", () => {
    const offending = Object.values(CATALOG).flatMap((e) =>
      requestedScopes(e)
        .filter((s) => !isReadOnlyScope(s))
        .filter((s) => e.readOnlyGrant === "full" || !e.privilegeNote?.includes(s))
        .map((s) => `${e.sourceType}: ${s}`),
    );
    expect(offending).toEqual([]);
    // the check itself bites: write scopes, and scopes the vendors document as full access (ServiceNow
    // useraccount, Salesforce api, GitHub repo, Microsoft .default)
    for (const s of ["channels:write", "Sites.ReadWrite.All", "admin:org", "manage_users", "files.content.write", "organizations:CreateAccount", "read_write", "https://www.googleapis.com/auth/drive", "https://graph.microsoft.com/Sites.ReadWrite.All", "useraccount", "api", "repo", "https://graph.microsoft.com/.default", "https://management.azure.com/.default"]) {
      expect(isReadOnlyScope(s), s).toBe(false);
    }
    for (const s of ["channels:read", "read:org", "okta.users.read", "https://www.googleapis.com/auth/cloud-platform.read-only", "Sites.Read.All"]) expect(isReadOnlyScope(s), s).toBe(true);
    // the vendors without a (complete) read-only grant are flagged in words
    for (const t of ["servicenow", "salesforce", "workday", "github", "azure_sub", "entra", "m365_sharepoint"]) {
      expect(CATALOG[t]!.readOnlyGrant, t).not.toBe("full");
      expect(CATALOG[t]!.privilegeNote?.length, t).toBeGreaterThan(60);
    }
    // the schema refuses a full-access scope on an entry that claims a full read-only grant, and a non-full grant without words
    const sn = RAW_ENTRIES.find((e) => e.sourceType === "servicenow")!;
    expect(ZCatalogEntry.safeParse({ ...sn, readOnlyGrant: "full" }).success).toBe(false);
    expect(ZCatalogEntry.safeParse({ ...sn, privilegeNote: undefined }).success).toBe(false);
  });

  it("references every fact of every entry with vendor documentation, and refuses any other kind of reference", () => {
    const missing = RAW_ENTRIES.flatMap((e) => unreferencedFacts(e).map((f) => `${e.sourceType} ${f.path.join(".")}: ${f.fact}`));
    expect(missing).toEqual([]);
    expect(STRICT_PROVENANCE).toBe(true);
    // the schema refuses an entry with an unreferenced fact
    const slack = RAW_ENTRIES.find((e) => e.sourceType === "slack")!;
    const bad = ZCatalogEntry.safeParse({ ...slack, health: { ...slack.health!, ref: undefined } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain("unreferenced fact: health GET /auth.test");
    // … and one whose "reference" is an unverified marker instead of a page and section (no such escape exists)
    const marker = { unverified: "no vendor page or description found in the searched documentation" };
    expect(ZRef.safeParse(marker).success).toBe(false);
    expect(ZRef.safeParse([marker]).success).toBe(false);
    expect(ZRef.safeParse({ url: "https://api.slack.com/methods/auth.test", section: "auth.test", unverified: "also unchecked" }).success).toBe(false);
    expect(ZRef.safeParse({ url: "https://api.slack.com/methods/auth.test", section: "" }).success).toBe(false);
    const marked = ZCatalogEntry.safeParse({ ...slack, health: { ...slack.health!, ref: marker } });
    expect(marked.success).toBe(false);
    expect(marked.error?.issues.map((i) => i.path.join("."))).toContain("health.ref");
    const zendesk = RAW_ENTRIES.find((e) => e.sourceType === "zendesk")!;
    const oauth = zendesk.authModes[0]!;
    const markedAuth = ZCatalogEntry.safeParse({ ...zendesk, authModes: [{ ...oauth, refs: { ...(oauth.type === "oauth2" ? oauth.refs : {}), authorizeUrl: marker } }, ...zendesk.authModes.slice(1)] });
    expect(markedAuth.success).toBe(false);
    // every reference of every entry is a URL and the section stating the fact
    const facts = RAW_ENTRIES.flatMap((e) => entryFacts(e));
    expect(facts.length).toBeGreaterThan(250);
    for (const f of facts) for (const r of [f.ref!].flat()) expect(Object.keys(r).sort(), f.fact).toEqual(["section", "url"]);
    expect(JSON.stringify(RAW_ENTRIES)).not.toContain("unverified");
  });

  it("does not state what no public vendor page does: Workday's endpoints and scopes are the admin's input, said in words", () => {
    const wd = CATALOG.workday!;
    const mode = wd.authModes[0]!;
    expect(mode.type === "oauth2" && [mode.endpoints, mode.authorizeUrl, mode.tokenUrl, mode.scopes]).toEqual(["oauth_app", undefined, undefined, []]);
    expect(entryFacts(wd).map((f) => f.fact)).toEqual(["token client authentication", "health GET /workers", "stream workers: GET /workers", "stream supervisory_organizations: GET /supervisoryOrganizations"]);
    expect(adminInputFacts(wd)).toEqual([
      "authorization and token endpoints: the tenant's per-instance OAuth app (Settings → OAuth apps)",
      "scopes: those the admin registered on the vendor's API client",
      "base URL: https://config.host + config.rest_path",
      "hosts: config.host",
    ]);
    expect(wd.notes).toMatch(/Only the tenant admin's input backs Workday's endpoints/);
    // entries whose facts are all cited take nothing from the admin beyond what they say
    expect(adminInputFacts(CATALOG.zendesk!)).toEqual([]);
    expect(adminInputFacts(CATALOG.salesforce!)).toEqual([]);
    // an oauth2 mode names its endpoints or takes both from the tenant's OAuth app, never half of each
    const raw = RAW_ENTRIES.find((e) => e.sourceType === "workday")!;
    const m = raw.authModes[0]!;
    expect(ZCatalogEntry.safeParse({ ...raw, authModes: [{ ...m, tokenUrl: "https://{{config.host}}/token" }] }).success).toBe(false);
    expect(ZCatalogEntry.safeParse({ ...raw, authModes: [{ ...m, endpoints: "catalog" }] }).success).toBe(false);
    expect(ZCatalogEntry.safeParse({ ...raw, authModes: [{ ...m, clientPerInstance: false }] }).success).toBe(false);
  });

  it("declares every interpolation variable it uses", () => {
    for (const e of Object.values(CATALOG)) {
      // a field's own name, and the variables an enum field's values imply (Datadog site → app_host)
      const declared = new Set(e.configFields.flatMap((f) => [f.name, ...Object.values(f.implies ?? {}).flatMap((v) => Object.keys(v))]));
      for (const v of interpolationVariables(e)) {
        if (v.namespace === "resource") {
          expect(v.name, `${e.sourceType}: {{resource.${v.name}}}`).toBe("id");
          continue;
        }
        if (v.namespace === "page") {
          expect(v.name, `${e.sourceType}: {{page.${v.name}}}`).toBe("limit");
          continue;
        }
        expect(v.namespace, `${e.sourceType}: {{${v.namespace}.${v.name}}}`).toBe("config");
        expect(declared.has(v.name), `${e.sourceType}: {{config.${v.name}}} is not declared`).toBe(true);
      }
    }
  });

  it("flags secrets and keeps them out of URLs", () => {
    for (const e of Object.values(CATALOG)) {
      const authFields = e.authModes.flatMap((m) =>
        m.type === "bearer" || m.type === "connection_string"
          ? [m.secretField]
          : m.type === "api_key"
            ? m.headers.map((h) => h.secretField)
            : m.type === "basic"
              ? [m.passwordField]
              : m.type === "service_account" || m.type === "aws_sigv4"
                ? m.secretFields.filter((f) => f !== "client_id" && f !== "client_email" && f !== "access_key_id")
                : m.type === "oauth2"
                  ? ["access_token"]
                  : [],
      );
      for (const f of authFields) expect(e.secrets, `${e.sourceType} does not flag ${f} as secret`).toContain(f);
      expect(JSON.stringify([e.baseUrl, e.streams.map((s) => [s.path, s.query]), e.health])).not.toMatch(/\{\{\s*secret\./);
    }
  });

  it("uses POST only on endpoints marked as read queries (checked by the schema)", () => {
    const bad = ZCatalogEntry.safeParse({
      ...RAW_ENTRIES.find((e) => e.sourceType === "dropbox")!,
      readOnlyPost: [],
    });
    expect(bad.success).toBe(false);
    for (const e of Object.values(CATALOG)) {
      for (const s of e.streams) if (s.method === "POST") expect(e.readOnlyPost.some((p) => p.path === s.path), `${e.sourceType}/${s.name}`).toBe(true);
    }
  });

  it("gives every HTTP entry https vendor hosts", () => {
    for (const e of Object.values(CATALOG).filter((x) => x.driver === "rest")) {
      expect(e.baseUrl, e.sourceType).toMatch(/^https:\/\//);
      expect(e.allowedHosts.length, e.sourceType).toBeGreaterThan(0);
    }
    for (const e of Object.values(CATALOG)) {
      for (const m of e.authModes) {
        if (m.type === "oauth2" && m.endpoints === "oauth_app") {
          // the tenant's OAuth app names them; Settings accepts https URLs only (oauth-app-repository.test.ts)
          expect([m.tokenUrl, m.authorizeUrl, m.instanceHost], e.sourceType).toEqual([undefined, undefined, "{{config.host}}"]);
        } else if (m.type === "oauth2") {
          expect(m.tokenUrl, e.sourceType).toMatch(/^https:\/\//);
          if (m.grant === "authorization_code") expect(m.authorizeUrl, e.sourceType).toMatch(/^https:\/\//);
        }
      }
    }
  });

  it("declares read queries that Safe Mode's own body checks accept", () => {
    let checked = 0;
    for (const e of Object.values(CATALOG)) {
      const config = Object.fromEntries(e.configFields.map((f) => [f.name, "x"]));
      for (const r of [...(e.health ? [e.health] : []), ...e.streams].filter((x) => x.method === "POST")) {
        const marked = findReadOnlyPost(e.readOnlyPost, r.path, r.headers ?? {});
        expect(marked, `${e.sourceType} ${r.path}`).toBeDefined();
        const body = r.body === undefined ? undefined : JSON.stringify(interpolateDeep(r.body, { config, page: { limit: 20 } }));
        const q = marked!.kind === "sql" ? { kind: "sql" as const, field: marked!.field! } : { kind: marked!.kind };
        const res = preflight({ method: "POST", url: "https://example.com/x", body, readOnlyQuery: q });
        expect(res.ok, `${e.sourceType} ${r.path}: ${res.ok ? "" : res.error.message}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6); // dropbox, aws_org, snowflake, netsuite
  });

  it("types every config field, and the declared examples and defaults satisfy their own field", () => {
    for (const e of Object.values(CATALOG)) {
      for (const f of e.configFields) {
        const v = exampleValue(f);
        if (v === undefined) continue;
        expect(validateEntryConfig(e, { ...Object.fromEntries(e.configFields.filter((x) => x.required).map((x) => [x.name, exampleValue(x)])), [f.name]: v }), `${e.sourceType}.${f.name}`).toEqual([]);
      }
      for (const f of e.configFields.filter((x) => x.type === "string")) expect(f.format || f.pattern || f.maxLength <= 16_000, `${e.sourceType}.${f.name}`).toBeTruthy();
    }
  });

  it("declares the config fields the drivers read (base_url for every REST entry; hosts/URLs as destination fields)", () => {
    const names = (t: string) => CATALOG[t]!.configFields.map((f) => f.name);
    for (const e of Object.values(CATALOG).filter((x) => x.driver === "rest")) expect(names(e.sourceType), e.sourceType).toContain("base_url");
    expect(names("salesforce")).toEqual(expect.arrayContaining(["instance_url", "base_url", "api_version", "objects"]));
    expect(names("openapi")).toEqual(expect.arrayContaining(["spec_url", "spec", "base_url", "api_key_header"]));
    for (const t of ["postgres", "supabase", "redshift", "jdbc"]) expect(names(t), t).toEqual(expect.arrayContaining(["host", "port", "database", "schemas", "ssl"]));
    expect(names("mongo")).toEqual(expect.arrayContaining(["host", "port", "database", "auth_source", "read_preference"]));
    expect(names("s3_compat")).toEqual(expect.arrayContaining(["endpoint", "region", "bucket", "prefix", "force_path_style"]));
    expect(names("filesource")).toEqual(expect.arrayContaining(["root", "path", "format"]));
    // intents carry no code: no SQL or query documents are declared
    for (const e of Object.values(CATALOG)) expect(e.configFields.map((f) => f.name).filter((n) => /sample_(query|filter|pipeline)|token_url/.test(n)), e.sourceType).toEqual([]);
    // every field that can name a non-vendor host is a destination field (checked against the grant at connect time)
    const dest = Object.values(CATALOG).flatMap((e) => e.configFields.filter((f) => f.destination).map((f) => `${e.sourceType}.${f.name}`));
    expect(dest).toEqual(expect.arrayContaining(["github.base_url", "salesforce.instance_url", "openapi.spec_url", "openapi.base_url", "gitlab.host", "postgres.host", "s3_compat.endpoint", "mongo.host", "filesource.root"]));
  });

  it("keeps vendor-template fields on the vendor's domains (formats from the vendors' documentation)", () => {
    const bad: [string, Record<string, unknown>, string][] = [
      ["jira", { site: "evil.example" }, "config.site"],
      ["jira", { site: "acme.atlassian.net.evil.example" }, "config.site"],
      ["confluence", { site: "127.0.0.1:8080" }, "config.site"],
      ["zendesk", { subdomain: "evil.example" }, "config.subdomain"],
      ["zendesk", { subdomain: "a/b" }, "config.subdomain"],
      ["datadog", { site: "evil.example" }, "config.site"],
      ["okta", { domain: "acme.okta.com.evil.example" }, "config.domain"],
      ["servicenow", { instance: "acme.evil" }, "config.instance"],
      ["snowflake", { account: "a.b", warehouse: "W", database: "D", role: "R" }, "config.account"],
      ["netsuite", { account_id: "1234567.evil" }, "config.account_id"],
      ["workday", { host: "evil.example", auth_host: "impl.workday.com", rest_path: "/ccx/api/v1/t" }, "config.host"],
      ["workday", { host: "wd2-impl-services1.workday.com", rest_path: "@evil.example/ccx/api/v1/t" }, "config.rest_path"],
      ["workday", { host: "wd2-impl-services1.workday.com", rest_path: "/ccx/../x" }, "config.rest_path"],
      ["gitlab", { host: "evil.example:8443" }, "config.host"],
      ["github", { org: "acme", base_url: "https://u:p@h.example" }, "config.base_url"],
      ["github", { org: "acme", base_url: "file:///etc/passwd" }, "config.base_url"],
      ["github", { org: "-acme" }, "config.org"],
      ["postgres", { port: 70_000 }, "config.port"],
      ["postgres", { schemas: ["public", "x; drop"] }, "config.schemas.1"],
      // the server's own schemas: its roles, settings and sessions are not a data source
      ["postgres", { schemas: ["public", "pg_catalog"] }, "config.schemas.1"],
      ["postgres", { schemas: ["Information_Schema"] }, "config.schemas.0"],
      ["supabase", { schema: "pg_toast" }, "config.schema"],
      ["jdbc", { schemas: ["performance_schema"] }, "config.schemas.0"],
      ["filesource", { root: "relative/../x" }, "config.root"],
      ["azure_sub", { tenant_id: "contoso.onmicrosoft.com", subscription_id: "not-a-uuid" }, "config.subscription_id"],
      ["m365_sharepoint", {}, "config.tenant_id"],
      ["slack", { channel: "x" }, "config.channel"],
    ];
    for (const [t, config, path] of bad) expect(validateEntryConfig(CATALOG[t]!, config).map((i) => i.path), `${t} ${JSON.stringify(config)}`).toContain(path);
    for (const [t, config] of [
      ["jira", { site: "acme.atlassian.net" }],
      ["datadog", { site: "datadoghq.eu" }],
      ["datadog", {}],
      ["gitlab", { host: "gitlab.example.com" }],
      ["github", { org: "acme", base_url: "sandbox:github" }],
      ["postgres", { host: "10.0.0.5", port: 5432, schemas: ["public"], ssl: true }],
      ["s3_compat", { endpoint: "sandbox:s3", region: "us-east-1" }],
      ["filesource", { root: "sandbox:files" }],
    ] as const) expect(validateEntryConfig(CATALOG[t]!, { ...config }), `${t} ${JSON.stringify(config)}`).toEqual([]);
  });
});
