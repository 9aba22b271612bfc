import { describe, expect, it } from "vitest";
import { ALLOWLIST } from "../allowlist";
import { DRIVERS } from "../registry";
import { preflight } from "../safe-mode/http";
import { CATALOG, RAW_ENTRIES, getCatalogEntry } from "./index";
import { interpolateDeep } from "./interpolate";
import { ZCatalogEntry, findReadOnlyPost, interpolationVariables, isReadOnlyScope, requestedScopes } from "./schema";

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

  it("asks only for read-only scopes", () => {
    const offending = Object.values(CATALOG).flatMap((e) => requestedScopes(e).filter((s) => !isReadOnlyScope(s)).map((s) => `${e.sourceType}: ${s}`));
    expect(offending).toEqual([]);
    // the check itself bites
    for (const s of ["channels:write", "Sites.ReadWrite.All", "admin:org", "manage_users", "files.content.write", "organizations:CreateAccount", "read_write", "https://www.googleapis.com/auth/drive", "https://graph.microsoft.com/Sites.ReadWrite.All"]) {
      expect(isReadOnlyScope(s), s).toBe(false);
    }
  });

  it("declares every interpolation variable it uses", () => {
    for (const e of Object.values(CATALOG)) {
      const declared = new Set(e.configFields.map((f) => f.name));
      for (const v of interpolationVariables(e)) {
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
        if (m.type === "oauth2") {
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
});
