import { testEnv } from "../../tests/helpers/env";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import { startOAuthServer, type OAuthServer } from "../../tests/helpers/oauth-server";
import { resolveServicePrincipal, spEnvPrefix } from "./sp";
import { spEnvStem, type TenantScope } from "./tenant-scope";

// Any database access fails the test: without an encryption key nothing may be cached.
const noDb = new Proxy({} as Db, {
  get: (_t, p) => {
    throw new Error(`database touched: ${String(p)}`);
  },
});

const DEFAULT: TenantScope = { id: "t-default", slug: "default", isDefault: true, envKey: "DEFAULT" };
const ACME: TenantScope = { id: "t-acme", slug: "acme", isDefault: false, envKey: "ACME" };
const deps = (scope: TenantScope = DEFAULT, secrets: string[] = []) => ({ db: noDb, now: () => new Date(), key: undefined, timeoutMs: 3_000, secrets, scope });

/** A listener that records every request and connection it gets (it must get none). */
async function trap(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "stolen", token_type: "bearer" }));
  });
  server.on("connection", () => hits++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits, close: () => new Promise((r) => server.close(() => r())) };
}

describe("service principals", () => {
  let idp: OAuthServer;
  beforeAll(async () => {
    idp = await startOAuthServer();
  });
  afterAll(async () => {
    await idp?.close();
  });
  afterEach(() => {
    for (const k of Object.keys(testEnv)) if (k.startsWith("SP_FILES_SYNC") || k.startsWith("SP_ACME__")) delete testEnv[k];
  });

  it("never send the client secret to a token URL from the intent's config: it is ignored, the catalog's is used", async () => {
    Object.assign(testEnv, { SP_FILES_SYNC_SOURCE_TYPES: "box, gitlab", SP_FILES_SYNC_CLIENT_ID: idp.serviceClient.clientId, SP_FILES_SYNC_CLIENT_SECRET: idp.serviceClient.clientSecret });
    const listener = await trap();
    try {
      const before = idp.tokenRequests();
      for (const url of [`${listener.url}/token`, "https://169.254.169.254/token", "https://metadata.google.internal/token"]) {
        const r = await resolveServicePrincipal(deps(), "files-sync", { tenantId: "t", connectionId: "c", sourceType: "box", tokenUrl: idp.tokenUrl, config: { token_url: url } });
        expect(r).toEqual({ ok: true, value: { access_token: expect.any(String), token_type: "bearer" } });
      }
      expect(listener.hits()).toBe(0);
      expect(idp.tokenRequests()).toBe(before + 3);
    } finally {
      await listener.close();
    }
  });

  it("refuse with words when the catalog's token host would come from config, and send nothing", async () => {
    Object.assign(testEnv, { SP_FILES_SYNC_SOURCE_TYPES: "box, gitlab", SP_FILES_SYNC_CLIENT_ID: "client", SP_FILES_SYNC_CLIENT_SECRET: "client-secret-never-sent" });
    const listener = await trap();
    try {
      const port = new URL(listener.url).port;
      const r = await resolveServicePrincipal(deps(), "files-sync", {
        tenantId: "t",
        connectionId: "c",
        sourceType: "gitlab",
        tokenUrl: "https://{{config.host}}/oauth/token",
        config: { host: `127.0.0.1:${port}` },
      });
      expect(r).toEqual({
        ok: false,
        error: { kind: "missing", message: "service principal files-sync: The token URL of this source cannot be taken from the connection's configuration: this source's OAuth app must be configured by an operator/admin (set SP_FILES_SYNC_TOKEN_URL)" },
      });
      expect(listener.hits()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it("serve only the connectors the operator bound them to: another source type (or none bound) gets nothing, and no token endpoint is asked", async () => {
    // an Entra app's principal, asked for by an intent that names ServiceNow and its own instance (trust-boundary audit)
    const listener = await trap();
    try {
      const asServiceNow = { tenantId: "t", connectionId: "c", sourceType: "servicenow", tokenUrl: `${listener.url}/oauth_token.do`, config: { instance: "dev99999" } };
      Object.assign(testEnv, { SP_FILES_SYNC_CLIENT_ID: "entra-app", SP_FILES_SYNC_CLIENT_SECRET: "entra-secret-never-sent" });
      expect(await resolveServicePrincipal(deps(), "files-sync", asServiceNow)).toEqual({
        ok: false,
        error: { kind: "missing", message: "service principal files-sync does not say which connectors it serves: set SP_FILES_SYNC_SOURCE_TYPES (e.g. servicenow); until then it is used for none" },
      });
      testEnv.SP_FILES_SYNC_SOURCE_TYPES = "entra, m365_sharepoint";
      expect(await resolveServicePrincipal(deps(), "files-sync", asServiceNow)).toEqual({
        ok: false,
        error: { kind: "missing", message: "service principal files-sync serves entra, m365_sharepoint, not ServiceNow (SP_FILES_SYNC_SOURCE_TYPES): it is never sent to another connector's hosts" },
      });
      // the operator's own token URL does not widen it either
      testEnv.SP_FILES_SYNC_TOKEN_URL = `${listener.url}/token`;
      expect(await resolveServicePrincipal(deps(), "files-sync", asServiceNow)).toMatchObject({ ok: false, error: { kind: "missing" } });
      expect(listener.hits()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it("use the operator's SP_<NAME>_TOKEN_URL over the catalog's", async () => {
    Object.assign(testEnv, { SP_FILES_SYNC_SOURCE_TYPES: "box, gitlab", SP_FILES_SYNC_CLIENT_ID: idp.serviceClient.clientId, SP_FILES_SYNC_CLIENT_SECRET: idp.serviceClient.clientSecret, SP_FILES_SYNC_TOKEN_URL: idp.tokenUrl });
    const listener = await trap();
    try {
      const r = await resolveServicePrincipal(deps(), "files-sync", { tenantId: "t", connectionId: "c", sourceType: "box", tokenUrl: `${listener.url}/token`, config: {} });
      expect(r.ok).toBe(true);
      expect(listener.hits()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it("refuse a token endpoint that resolves to link-local or metadata addresses before connecting", async () => {
    Object.assign(testEnv, { SP_FILES_SYNC_SOURCE_TYPES: "box, gitlab", SP_FILES_SYNC_CLIENT_ID: "client", SP_FILES_SYNC_CLIENT_SECRET: "client-secret-never-sent", SP_FILES_SYNC_TOKEN_URL: "https://169.254.169.254/token" });
    const r = await resolveServicePrincipal(deps(), "files-sync", { tenantId: "t", connectionId: "c", sourceType: "box", config: {} });
    expect(r).toMatchObject({ ok: false, error: { kind: "unreadable", message: expect.stringMatching(/^token endpoint refused by the egress guard/) } });
  });

  it("are per tenant: the default tenant reads SP_<NAME>_*, another tenant SP_<TENANT>__<NAME>_* only", async () => {
    expect(spEnvPrefix("files-sync")).toBe("SP_FILES_SYNC");
    expect(spEnvStem("crm.bot2", DEFAULT)).toEqual({ ok: true, value: "SP_CRM_BOT2" });
    expect(spEnvStem("Reporting", ACME)).toEqual({ ok: true, value: "SP_ACME__REPORTING" });
    // a name that would spell another tenant's variables is refused
    expect(spEnvStem("acme__reporting", DEFAULT).ok).toBe(false);
    expect(spEnvStem("x_.y", ACME).ok).toBe(false);

    // tenant A's (default) principal is not tenant B's
    Object.assign(testEnv, { SP_FILES_SYNC_SOURCE_TYPES: "box, gitlab", SP_FILES_SYNC_CLIENT_ID: idp.serviceClient.clientId, SP_FILES_SYNC_CLIENT_SECRET: idp.serviceClient.clientSecret });
    const ctx = { tenantId: "t", connectionId: "c", sourceType: "box", tokenUrl: idp.tokenUrl, config: {} };
    const before = idp.tokenRequests();
    expect(await resolveServicePrincipal(deps(ACME), "files-sync", ctx)).toEqual({
      ok: false,
      error: { kind: "missing", message: "service principal files-sync is not configured for this organisation: set SP_ACME__FILES_SYNC_CLIENT_ID and SP_ACME__FILES_SYNC_CLIENT_SECRET" },
    });
    expect(idp.tokenRequests()).toBe(before);
    Object.assign(testEnv, { SP_ACME__FILES_SYNC_SOURCE_TYPES: "box", SP_ACME__FILES_SYNC_CLIENT_ID: idp.serviceClient.clientId, SP_ACME__FILES_SYNC_CLIENT_SECRET: idp.serviceClient.clientSecret });
    expect((await resolveServicePrincipal(deps(ACME), "files-sync", ctx)).ok).toBe(true);
  });

  it("fetch a token on every call, and store nothing, when no encryption key is configured", async () => {
    Object.assign(testEnv, { SP_FILES_SYNC_SOURCE_TYPES: "box, gitlab", SP_FILES_SYNC_CLIENT_ID: idp.serviceClient.clientId, SP_FILES_SYNC_CLIENT_SECRET: idp.serviceClient.clientSecret });
    const secrets: string[] = [];
    const ctx = { tenantId: "t", connectionId: "c", sourceType: "box", tokenUrl: idp.tokenUrl, scopes: ["records.read"], config: {} };
    const before = idp.tokenRequests();
    const a = await resolveServicePrincipal(deps(DEFAULT, secrets), "files-sync", ctx);
    const b = await resolveServicePrincipal(deps(DEFAULT, secrets), "files-sync", ctx);
    expect(a.ok && b.ok).toBe(true);
    expect(idp.tokenRequests()).toBe(before + 2);
    // the client secret is handed to the caller for redaction
    expect(secrets).toContain(idp.serviceClient.clientSecret);
  });

  it("send the client secret in the body when config.token_auth_method is client_secret_post", async () => {
    Object.assign(testEnv, { SP_FILES_SYNC_SOURCE_TYPES: "box, gitlab", SP_FILES_SYNC_CLIENT_ID: "post-client", SP_FILES_SYNC_CLIENT_SECRET: "post-secret-1" });
    const seen: Array<{ body: string; auth?: string }> = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ body, auth: req.headers.authorization });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "at-post", token_type: "bearer", expires_in: 600 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      const r = await resolveServicePrincipal(deps(), "files-sync", { tenantId: "t", connectionId: "c", sourceType: "box", tokenUrl: url, config: { token_auth_method: "client_secret_post" } });
      expect(r).toEqual({ ok: true, value: { access_token: "at-post", token_type: "bearer" } });
      expect(seen[0]!.body).toContain("client_secret=post-secret-1");
      expect(seen[0]!.auth).toBeUndefined();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
