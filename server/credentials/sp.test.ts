import { testEnv } from "../../tests/helpers/env";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import { startOAuthServer, type OAuthServer } from "../../tests/helpers/oauth-server";
import { resolveServicePrincipal, spEnvPrefix } from "./sp";

// Any database access fails the test: without an encryption key nothing may be cached.
const noDb = new Proxy({} as Db, {
  get: (_t, p) => {
    throw new Error(`database touched: ${String(p)}`);
  },
});

describe("service principals", () => {
  let idp: OAuthServer;
  beforeAll(async () => {
    idp = await startOAuthServer();
  });
  afterAll(async () => {
    await idp?.close();
  });
  afterEach(() => {
    delete testEnv.SP_FILES_SYNC_CLIENT_ID;
    delete testEnv.SP_FILES_SYNC_CLIENT_SECRET;
  });

  it("refuse a token URL from the intent's config that points at link-local or cloud metadata addresses", async () => {
    Object.assign(testEnv, { SP_FILES_SYNC_CLIENT_ID: "client", SP_FILES_SYNC_CLIENT_SECRET: "client-secret-never-sent" });
    let sent = 0;
    const spy: typeof fetch = async (input, init) => {
      sent++;
      return fetch(input, init);
    };
    for (const url of ["https://169.254.169.254/token", "https://metadata.google.internal/token", "https://[fe80::1]/token"]) {
      const r = await resolveServicePrincipal(
        { db: noDb, fetch: spy, now: () => new Date(), key: undefined, timeoutMs: 2_000, secrets: [] },
        "files-sync",
        { tenantId: "t", connectionId: "c", sourceType: "box", tokenUrl: idp.tokenUrl, config: { token_url: url } },
      );
      expect(r).toMatchObject({ ok: false, error: { kind: "unreadable" } });
      if (!r.ok) expect(r.error.message).toMatch(/token URL refused/);
    }
    expect(sent).toBe(0);
  });

  it("derive their env variable names from the locator name", () => {
    expect(spEnvPrefix("files-sync")).toBe("SP_FILES_SYNC");
    expect(spEnvPrefix("crm.bot2")).toBe("SP_CRM_BOT2");
    expect(spEnvPrefix("Reporting")).toBe("SP_REPORTING");
  });

  it("fetch a token on every call, and store nothing, when no encryption key is configured", async () => {
    Object.assign(testEnv, { SP_FILES_SYNC_CLIENT_ID: idp.serviceClient.clientId, SP_FILES_SYNC_CLIENT_SECRET: idp.serviceClient.clientSecret });
    const secrets: string[] = [];
    const deps = { db: noDb, fetch, now: () => new Date(), key: undefined, timeoutMs: 5_000, secrets };
    const ctx = { tenantId: "t", connectionId: "c", sourceType: "box", tokenUrl: idp.tokenUrl, scopes: ["records.read"], config: {} };
    const before = idp.tokenRequests();
    const a = await resolveServicePrincipal(deps, "files-sync", ctx);
    const b = await resolveServicePrincipal(deps, "files-sync", ctx);
    expect(a.ok && b.ok).toBe(true);
    expect(idp.tokenRequests()).toBe(before + 2);
    // the client secret is handed to the caller for redaction
    expect(secrets).toContain(idp.serviceClient.clientSecret);
  });

  it("send the client secret in the body when config.token_auth_method is client_secret_post", async () => {
    Object.assign(testEnv, { SP_FILES_SYNC_CLIENT_ID: idp.serviceClient.clientId, SP_FILES_SYNC_CLIENT_SECRET: idp.serviceClient.clientSecret });
    const bodies: string[] = [];
    const auths: Array<string | null> = [];
    const spy: typeof fetch = async (input, init) => {
      bodies.push(String(init?.body ?? ""));
      auths.push(new Headers(init?.headers).get("authorization"));
      return fetch(input, init);
    };
    const r = await resolveServicePrincipal(
      { db: noDb, fetch: spy, now: () => new Date(), key: undefined, timeoutMs: 5_000, secrets: [] },
      "files-sync",
      { tenantId: "t", connectionId: "c", sourceType: "box", tokenUrl: idp.tokenUrl, config: { token_auth_method: "client_secret_post" } },
    );
    expect(r).toEqual({ ok: true, value: { access_token: expect.any(String), token_type: "bearer" } });
    expect(bodies[0]).toContain(`client_secret=${idp.serviceClient.clientSecret}`);
    expect(auths[0]).toBeNull();
  });
});
