import { describe, expect, it } from "vitest";
import { ALLOWLIST } from "./allowlist";
import { bindConnector } from "./binding";

describe("connector binding", () => {
  it("binds every allowlisted source type to a driver, and nothing else", () => {
    for (const t of ALLOWLIST) expect(bindConnector(t)?.adapter, t).toBeDefined();
    expect(bindConnector("myspace")).toBeUndefined();
  });
  it("hands OAuth entries' token URL and read-only scopes to credential resolution", () => {
    const slack = bindConnector("slack")!;
    expect(slack.tokenUrl).toBe("https://slack.com/api/oauth.v2.access");
    expect(slack.scopes).toEqual(expect.arrayContaining(["channels:read"]));
    for (const s of slack.scopes ?? []) expect(s).not.toMatch(/write|admin/);
  });
  it("hands over a token URL template as the catalog has it (the resolver fills it; config never replaces it)", () => {
    expect(bindConnector("entra")!.tokenUrl).toBe("https://login.microsoftonline.com/{{config.tenant_id}}/oauth2/v2.0/token");
  });
});
