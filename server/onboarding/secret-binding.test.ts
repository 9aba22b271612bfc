import { describe, expect, it } from "vitest";
import { bindingKind, bindingOf, refusalMessage, secretDestination } from "./secret-binding";

describe("secretDestination: where a connection would send its secret, as one line", () => {
  it("a vendor instance filled from config is the destination: another instance is another destination", () => {
    expect(secretDestination("servicenow", { instance: "acme" })).toBe("https://acme.service-now.com");
    expect(secretDestination("servicenow", { instance: "evil" })).toBe("https://evil.service-now.com");
    expect(secretDestination("zendesk", { subdomain: "acme" })).toBe("https://acme.zendesk.com");
  });

  it("a fixed vendor host, and base_url's origin when the config moves the API elsewhere", () => {
    expect(secretDestination("github", { org: "acme" })).toBe("https://api.github.com");
    expect(secretDestination("github", { org: "acme", base_url: "https://proxy.corp.example/gh/v3?x=1" })).toBe("api.github.com, https://proxy.corp.example");
    expect(secretDestination("github", { org: "acme", base_url: "https://PROXY.corp.example:8443/" })).toBe("api.github.com, https://proxy.corp.example:8443");
  });

  it("a database's host with its port (the catalog's default when none is given); the database itself is not a destination", () => {
    expect(secretDestination("postgres", { host: "db.corp.example", database: "sales" })).toBe("db.corp.example:5432");
    expect(secretDestination("postgres", { host: "db.corp.example", port: 6432, database: "hr" })).toBe("db.corp.example:6432");
    expect(secretDestination("postgres", { host: "DB.corp.example.", database: "x" })).toBe(secretDestination("postgres", { host: "db.corp.example" }));
  });

  it("a sandbox reference as written (its port changes with each start), and nothing for an unknown type", () => {
    expect(secretDestination("postgres", { host: "sandbox:postgres" })).toBe("sandbox:postgres");
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
    const row = (d: string) => ({ id: d, locator: "env:X", sourceType: "github", destination: d, origin: "first_use" as const, connectionId: null, createdBy: "first use", createdAt: new Date(0) });
    const five = refusalMessage("env:X", "github", "https://evil.example", ["https://a.corp", "b.corp:5432", "c", "d", "e"].map(row));
    expect(five).toMatch(/^Destination not approved for this secret: env:X is bound to 5 other destinations \(where it was first used, or an admin allowed it\), and this connection would send it to github at https:\/\/evil\.example\. It was not read\./);
    expect(five).not.toMatch(/a\.corp|b\.corp/);
    expect(refusalMessage("env:X", "postgres", "", [row("db.corp:5432")])).toContain("env:X is bound to another destination (where it was first used, or an admin allowed it), and this connection would send it to postgres.");
  });
});
