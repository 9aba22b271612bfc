import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// The egress guard resolves names with node:dns/promises: make one test name resolve to this
// machine there only. The OS resolver does not know it, so a request reaches the listener only
// when it is pinned to the address the guard vetted.
vi.mock("node:dns/promises", async (orig) => {
  const real = await orig<typeof import("node:dns/promises")>();
  const lookup = async (host: string, opts?: unknown) => (host === "idp.pinned.invalid" ? [{ address: "127.0.0.1", family: 4 }] : real.lookup(host, opts as never));
  return { ...real, lookup, default: { ...real, lookup } };
});

const { fillAuthServerUrl, pinnedTokenFetch } = await import("./token-endpoint");

const fill = (sourceType: string, template: string, config: Record<string, unknown>) =>
  fillAuthServerUrl({ label: "token URL", template, sourceType, config, hint: "set OAUTH_X_TOKEN_URL" });
const REFUSED = "The token URL of this source cannot be taken from the connection's configuration: this source's OAuth app must be configured by an operator/admin (set OAUTH_X_TOKEN_URL)";

describe("token and authorization URLs from the catalog", () => {
  it("fill path templates with plain names only (Microsoft tenant id)", () => {
    const ms = "https://login.microsoftonline.com/{{config.tenant_id}}/oauth2/v2.0/token";
    expect(fill("entra", ms, { tenant_id: "contoso.onmicrosoft.com" })).toMatchObject({ ok: true, value: new URL("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token") });
    for (const bad of ["../evil", "a/b", "x?y", "@evil.example", "..", "a%2f"]) expect(fill("entra", ms, { tenant_id: bad }).ok, bad).toBe(false);
  });

  it("fill a host label under the vendor's fixed domain, or a value that lands on the entry's own fixed hosts", () => {
    expect(fill("zendesk", "https://{{config.subdomain}}.zendesk.com/oauth/tokens", { subdomain: "acme" })).toMatchObject({ ok: true });
    expect(fill("datadog", "https://api.{{config.site}}/oauth2/v1/token", { site: "datadoghq.eu" })).toMatchObject({ ok: true, value: new URL("https://api.datadoghq.eu/oauth2/v1/token") });
    expect(fill("okta", "https://{{config.domain}}/oauth2/v1/token", { domain: "acme.okta.com" })).toMatchObject({ ok: true });
    expect(fill("gitlab", "https://{{config.host}}/oauth/token", { host: "gitlab.com" })).toMatchObject({ ok: true });
  });

  it("Datadog consent goes to the site's web app host the site implies (us3.datadoghq.com, not app.us3…)", async () => {
    const { getCatalogEntry } = await import("../connectors/catalog");
    const { effectiveConfig } = await import("../connectors/catalog/interpolate");
    const dd = getCatalogEntry("datadog")!;
    const mode = dd.authModes.find((m) => m.type === "oauth2")!;
    const authorize = (site: string, extra: Record<string, unknown> = {}) => fill("datadog", (mode as { authorizeUrl: string }).authorizeUrl, effectiveConfig(dd, { site, ...extra }));
    expect(authorize("us3.datadoghq.com")).toMatchObject({ ok: true, value: new URL("https://us3.datadoghq.com/oauth2/v1/authorize") });
    expect(authorize("us5.datadoghq.com")).toMatchObject({ ok: true, value: new URL("https://us5.datadoghq.com/oauth2/v1/authorize") });
    expect(authorize("ap1.datadoghq.com")).toMatchObject({ ok: true, value: new URL("https://ap1.datadoghq.com/oauth2/v1/authorize") });
    expect(authorize("datadoghq.com")).toMatchObject({ ok: true, value: new URL("https://app.datadoghq.com/oauth2/v1/authorize") });
    expect(authorize("datadoghq.eu")).toMatchObject({ ok: true, value: new URL("https://app.datadoghq.eu/oauth2/v1/authorize") });
    // the implied host is catalog data: a config value of the same name cannot move it
    expect(authorize("us3.datadoghq.com", { app_host: "evil.example" })).toMatchObject({ ok: true, value: new URL("https://us3.datadoghq.com/oauth2/v1/authorize") });
    expect(fill("datadog", "https://{{config.app_host}}/oauth2/v1/authorize", { app_host: "evil.example" }).ok).toBe(false);
  });

  it("refuse with words when config would choose the host (GitLab, Workday, Datadog, Okta pointed elsewhere)", () => {
    expect(fill("gitlab", "https://{{config.host}}/oauth/token", { host: "gitlab.evil.example" })).toEqual({ ok: false, error: REFUSED });
    expect(fill("workday", "https://{{config.host}}/ccx/oauth2/{{config.tenant}}/token", { host: "127.0.0.1:4000", tenant: "acme" })).toEqual({ ok: false, error: REFUSED });
    expect(fill("datadog", "https://api.{{config.site}}/oauth2/v1/token", { site: "evil.example" })).toEqual({ ok: false, error: REFUSED });
    expect(fill("okta", "https://{{config.domain}}/oauth2/v1/token", { domain: "okta.com.evil.example" })).toEqual({ ok: false, error: REFUSED });
    expect(fill("zendesk", "https://{{config.subdomain}}.zendesk.com/oauth/tokens", { subdomain: "evil.example/x?" })).toEqual({ ok: false, error: REFUSED });
    expect(fill("zendesk", "https://{{config.subdomain}}.zendesk.com/oauth/tokens", { subdomain: "a@evil.example" })).toEqual({ ok: false, error: REFUSED });
    expect(fill("gitlab", "https://{{config.host}}/oauth/token", {})).toEqual({ ok: false, error: REFUSED });
  });

  it("need https except to this machine", () => {
    expect(fill("github", "http://auth.example.com/token", {})).toEqual({ ok: false, error: "The token URL must use https" });
    expect(fill("github", "http://127.0.0.1:4650/token", {})).toMatchObject({ ok: true });
  });
});

describe("pinnedTokenFetch", () => {
  let server: http.Server;
  let port: number;
  const seen: Array<{ host?: string; body: string }> = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ host: req.headers.host, body });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "at", token_type: "bearer" }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("connects to the address the egress guard vetted, never resolving the name again", async () => {
    const res = await pinnedTokenFetch({ origin: "operator" })(`http://idp.pinned.invalid:${port}/token`, { method: "POST", body: "grant_type=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ access_token: "at", token_type: "bearer" });
    expect(seen.at(-1)).toEqual({ host: `idp.pinned.invalid:${port}`, body: "grant_type=x" });
  });

  it("keeps catalog vendor hosts to public addresses: a vendor name resolving to this machine gets nothing", async () => {
    const n = seen.length;
    await expect(pinnedTokenFetch({ origin: "catalog" })(`http://idp.pinned.invalid:${port}/token`, { method: "POST", body: "refresh_token=rt-secret" })).rejects.toThrow(/egress guard/);
    await expect(pinnedTokenFetch({ origin: "operator" })("http://169.254.169.254/token", { method: "POST", body: "x" })).rejects.toThrow(/egress guard/);
    expect(seen.length).toBe(n);
  });
});
