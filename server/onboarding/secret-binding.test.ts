import { describe, expect, it } from "vitest";
import { bindingKind, bindingOf, refusalMessage, secretDestination } from "./secret-binding";

describe("secretDestination: where a connection would send its secret, as one line", () => {
  it("a vendor instance filled from config is the destination: another instance is another destination", () => {
    expect(secretDestination("servicenow", { instance: "acme" })).toBe("https://acme.service-now.com/api/now, instance=acme");
    expect(secretDestination("servicenow", { instance: "evil" })).not.toBe(secretDestination("servicenow", { instance: "acme" }));
    expect(secretDestination("zendesk", { subdomain: "acme" })).toBe("https://acme.zendesk.com/api/v2, subdomain=acme");
    expect(secretDestination("okta", { domain: "acme.okta.com" })).toBe("https://acme.okta.com/api/v1, domain=acme.okta.com");
    expect(secretDestination("s3", { region: "eu-west-1" })).not.toBe(secretDestination("s3", { region: "us-east-1" }));
  });

  it("a fixed vendor base, or base_url with its path when the config moves the API elsewhere (a shared gateway serves many tenants by path)", () => {
    expect(secretDestination("github", { org: "acme" })).toBe("https://api.github.com");
    expect(secretDestination("github", { org: "acme", base_url: "https://PROXY.corp.example:8443/gh/v3/" })).toBe("base_url=https://proxy.corp.example:8443/gh/v3");
    expect(secretDestination("github", { org: "acme", base_url: "https://gw.corp/svcA" })).not.toBe(secretDestination("github", { org: "acme", base_url: "https://gw.corp/svcB" }));
    // the org is not where it goes: one token serves many orgs
    expect(secretDestination("github", { org: "other" })).toBe(secretDestination("github", { org: "acme" }));
  });

  it("each value is named: two URL fields swapping values are another destination (found in review)", () => {
    expect(secretDestination("openapi", { spec_url: "https://a.example/s.json", base_url: "https://b.example" })).not.toBe(secretDestination("openapi", { spec_url: "https://b.example/s.json", base_url: "https://a.example" }));
  });

  it("an inline OpenAPI document is part of it (its servers say where the API is; found in review), and so is spec_url's path", () => {
    const spec = (server: string) => JSON.stringify({ openapi: "3.0.0", servers: [{ url: server }], paths: {} });
    expect(secretDestination("openapi", { spec: spec("https://api.acme.example") })).toMatch(/^spec=sha256:[0-9a-f]{16}$/);
    expect(secretDestination("openapi", { spec: spec("https://evil.example") })).not.toBe(secretDestination("openapi", { spec: spec("https://api.acme.example") }));
    expect(secretDestination("openapi", { spec_url: "https://raw.githubusercontent.com/acme/r/main/spec.json" })).not.toBe(secretDestination("openapi", { spec_url: "https://raw.githubusercontent.com/evil/r/main/spec.json" }));
  });

  it("a database's host with its port (the catalog's default when none is given); the database itself is not a destination", () => {
    expect(secretDestination("postgres", { host: "db.corp.example", database: "sales" })).toBe("host=db.corp.example, port=5432");
    expect(secretDestination("postgres", { host: "db.corp.example", port: 6432, database: "hr" })).toBe("host=db.corp.example, port=6432");
    expect(secretDestination("postgres", { host: "DB.corp.example.", database: "x" })).toBe(secretDestination("postgres", { host: "db.corp.example" }));
  });

  it("a sandbox reference as written (its port changes with each start), and nothing for an unknown type", () => {
    expect(secretDestination("postgres", { host: "sandbox:postgres" })).toBe("host=sandbox:postgres, port=5432");
    expect(secretDestination("no-such-type", { host: "x" })).toBe("");
  });
});

describe("bindingKind: which locators are bound", () => {
  it("env: and vault: once for every use, sp: per source type; consent: and the sandboxes' own secrets not here", () => {
    expect(bindingKind("env:AAM_SECRET_ACME__SN")).toBe("all");
    expect(bindingKind("vault:apps/sn#password")).toBe("all");
    expect(bindingKind("sp:entra")).toBe("per_type");
    expect(bindingKind("consent:github")).toBeNull();
    expect(bindingKind("env:SANDBOX_TOKEN")).toBeNull();
    expect(bindingKind("not a locator")).toBeNull();
  });
});

describe("bindingOf: every spelling of one secret under one name", () => {
  it("folds the scheme's case, a Vault #key and an sp: name's case and separators", () => {
    expect(bindingOf("ENV:AAM_SECRET_X")).toEqual({ kind: "all", key: "env:AAM_SECRET_X" });
    expect(["vault:apps/sn", "vault:apps/sn#password", " Vault:apps/sn#user"].map((l) => bindingOf(l)?.key)).toEqual(["vault:apps/sn", "vault:apps/sn", "vault:apps/sn"]);
    expect(["sp:en_tra", "sp:En-Tra", "sp:en.tra", "SP:EN_TRA"].map((l) => bindingOf(l)?.key)).toEqual(["sp:EN_TRA", "sp:EN_TRA", "sp:EN_TRA", "sp:EN_TRA"]);
    // different secrets stay apart
    expect(bindingOf("vault:apps/sn2")?.key).not.toBe(bindingOf("vault:apps/sn")?.key);
  });
});

describe("refusalMessage", () => {
  it("says where this connection would send the secret and how many places it is bound to, never which ones", () => {
    const five = refusalMessage("env:X", "github", "https://evil.example", 5);
    expect(five).toMatch(/^Destination not approved for this secret: env:X is bound to 5 other destinations \(where it was first used, or an admin allowed it\), and this connection would send it to github at https:\/\/evil\.example\. It was not read\./);
    expect(five).not.toMatch(/a\.corp|b\.corp/);
    expect(refusalMessage("env:X", "postgres", "", 1)).toContain("env:X is bound to another destination (where it was first used, or an admin allowed it), and this connection would send it to postgres.");
  });
});
