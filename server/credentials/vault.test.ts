import { afterEach, describe, expect, it } from "vitest";
import { startVaultServer, type VaultServer } from "../../tests/helpers/vault-server";
import { createVaultClient, type VaultConfig } from "./vault";

let server: VaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** the tenant folder every read is confined to (VAULT_TENANT_PREFIX with the tenant's slug) */
const F = "aam/tenants/acme/";
const cfg = (s: VaultServer, extra: Partial<VaultConfig> = {}): VaultConfig => ({ addr: s.url, token: s.token, mount: s.mount, ...extra });

describe("Vault KV v2 client", () => {
  it("reads all fields of a secret, or one field with #key", async () => {
    server = await startVaultServer();
    server.put(`${F}apps/postgres`, { username: "app", password: "pg-pass-1", port: 5432 });
    const vault = createVaultClient();
    expect(await vault.read(cfg(server), "apps/postgres", undefined, F)).toEqual({ ok: true, value: { username: "app", password: "pg-pass-1", port: "5432" } });
    expect(await vault.read(cfg(server), "apps/postgres", "password", F)).toEqual({ ok: true, value: { password: "pg-pass-1" } });
    const req = server.requests.at(-1)!;
    expect(req).toMatchObject({ method: "GET", path: "/v1/secret/data/aam/tenants/acme/apps/postgres", token: server.token });
  });

  it("returns the latest version", async () => {
    server = await startVaultServer();
    server.put(`${F}apps/crm`, { token: "v1" });
    server.put(`${F}apps/crm`, { token: "v2" });
    expect(await createVaultClient().read(cfg(server), "apps/crm", "token", F)).toEqual({ ok: true, value: { token: "v2" } });
  });

  it("uses the configured KV mount", async () => {
    server = await startVaultServer({ mount: "kv" });
    server.put(`${F}x`, { token: "t" });
    expect((await createVaultClient().read(cfg(server), "x", undefined, F)).ok).toBe(true);
    expect(server.requests.at(-1)!.path).toBe("/v1/kv/data/aam/tenants/acme/x");
    const wrongMount = await createVaultClient().read(cfg(server, { mount: "secret" }), "x", undefined, F);
    expect(wrongMount).toEqual({ ok: false, error: { kind: "missing", message: "Vault secret x is not available to this organisation (it does not exist under secret/aam/tenants/acme/, or this server's Vault identity may not read it)" } });
  });

  it("is missing when VAULT_ADDR is unset, when no credentials are set, and for unknown paths, deleted versions or fields", async () => {
    const vault = createVaultClient();
    expect(await vault.read({ mount: "secret" }, "a", undefined, F)).toEqual({ ok: false, error: { kind: "missing", message: "Vault is not configured: set VAULT_ADDR" } });
    server = await startVaultServer();
    expect(await vault.read({ addr: server.url, mount: "secret" }, "a", undefined, F)).toEqual({ ok: false, error: { kind: "missing", message: expect.stringMatching(/set VAULT_TOKEN, or VAULT_ROLE_ID/) } });
    expect(await vault.read(cfg(server), "nope", undefined, F)).toEqual({ ok: false, error: { kind: "missing", message: "Vault secret nope is not available to this organisation (it does not exist under secret/aam/tenants/acme/, or this server's Vault identity may not read it)" } });
    server.put(`${F}gone`, { token: "old" });
    server.softDelete(`${F}gone`);
    expect(await vault.read(cfg(server), "gone", undefined, F)).toEqual({ ok: false, error: { kind: "missing", message: "Vault secret gone is not available to this organisation (it does not exist under secret/aam/tenants/acme/, or this server's Vault identity may not read it)" } });
    server.put(`${F}apps/pg`, { password: "x" });
    expect(await vault.read(cfg(server), "apps/pg", "dsn", F)).toEqual({ ok: false, error: { kind: "missing", message: 'Vault secret apps/pg has no field "dsn"' } });
  });

  it("answers a denied path exactly as a missing one (nothing tells which paths exist), without echoing the token", async () => {
    server = await startVaultServer();
    server.put(`${F}locked`, { token: "t" });
    server.deny(`${F}locked`);
    const denied = await createVaultClient().read(cfg(server), "locked", undefined, F);
    const absent = await createVaultClient().read(cfg(server), "never-existed", undefined, F);
    expect(denied.ok || absent.ok).toBe(false);
    if (denied.ok || absent.ok) return;
    expect(denied.error.kind).toBe(absent.error.kind);
    expect(denied.error.message.replace("locked", "X")).toBe(absent.error.message.replace("never-existed", "X"));
    server.softDelete(`${F}locked`);
    const deleted = await createVaultClient().read(cfg(server), "locked", undefined, F);
    expect(deleted).toEqual(denied);
    const bad = await createVaultClient().read(cfg(server, { token: "hvs.not-valid-token" }), "locked", undefined, F);
    expect(bad).toEqual(denied);
    expect(JSON.stringify(bad)).not.toContain("hvs.not-valid-token");
  });

  it("reads only below the tenant folder and refuses traversal before asking Vault", async () => {
    server = await startVaultServer();
    server.put("top-level", { token: "install-wide" });
    server.put("aam/tenants/other/x", { token: "other-tenant" });
    const vault = createVaultClient();
    expect((await vault.read(cfg(server), "top-level", undefined, F)).ok).toBe(false);
    const before = server.requests.length;
    for (const path of ["../other/x", "a/../../other/x", "/aam/tenants/other/x", "a//b", "%2e%2e/other/x", "a\\..\\b"]) {
      const r = await vault.read(cfg(server), path, undefined, F);
      expect(r, path).toEqual({ ok: false, error: { kind: "missing", message: `Vault path ${path} is not allowed` } });
    }
    expect(server.requests.length).toBe(before);
    expect(server.requests.every((r) => r.path.startsWith("/v1/secret/data/aam/tenants/acme/"))).toBe(true);
  });

  it("is unreadable when Vault is sealed", async () => {
    server = await startVaultServer();
    server.put(`${F}a`, { token: "t" });
    server.seal();
    expect(await createVaultClient().read(cfg(server), "a", undefined, F)).toEqual({ ok: false, error: { kind: "unreadable", message: "Vault is sealed" } });
    server.unseal();
    expect((await createVaultClient().read(cfg(server), "a", undefined, F)).ok).toBe(true);
  });

  it("is unreadable when Vault is unreachable or does not answer in time", async () => {
    server = await startVaultServer();
    const addr = server.url;
    server.hang(true);
    const slow = await createVaultClient({ timeoutMs: 200 }).read(cfg(server), "a", undefined, F);
    expect(slow).toEqual({ ok: false, error: { kind: "unreadable", message: "Vault did not answer within 0.2 s" } });
    await server.close();
    server = undefined;
    const down = await createVaultClient().read({ addr, token: "hvs.static-token-1", mount: "secret" }, "a", undefined, F);
    expect(down).toEqual({ ok: false, error: { kind: "unreadable", message: "Vault is unreachable (ECONNREFUSED)" } });
  });

  it("sends X-Vault-Namespace when a namespace is configured", async () => {
    server = await startVaultServer({ namespace: "team-a" });
    server.put(`${F}a`, { token: "t" });
    expect((await createVaultClient().read(cfg(server), "a", undefined, F)).ok).toBe(false);
    expect(await createVaultClient().read(cfg(server, { namespace: "team-a" }), "a", undefined, F)).toEqual({ ok: true, value: { token: "t" } });
    expect(server.requests.at(-1)!.namespace).toBe("team-a");
  });

  describe("AppRole", () => {
    const approle = { roleId: "role-1", secretId: "approle-secret-id-1" };
    const arCfg = (s: VaultServer): VaultConfig => ({ addr: s.url, roleId: approle.roleId, secretId: approle.secretId, namespace: "ns1", mount: "secret" });

    it("logs in once and reuses the token until its lease runs out", async () => {
      server = await startVaultServer({ approle: { ...approle, leaseDuration: 60 }, namespace: "ns1" });
      server.put(`${F}a`, { token: "t" });
      let clock = Date.parse("2030-01-01T00:00:00Z");
      const vault = createVaultClient({ now: () => new Date(clock) });
      const logins = () => server!.requests.filter((r) => r.path === "/v1/auth/approle/login").length;
      await Promise.all([vault.read(arCfg(server), "a", undefined, F), vault.read(arCfg(server), "a", undefined, F)]);
      expect((await vault.read(arCfg(server), "a", undefined, F)).ok).toBe(true);
      expect(logins()).toBe(1);
      expect(server.requests.find((r) => r.path === "/v1/auth/approle/login")!.namespace).toBe("ns1");
      clock += 61_000;
      expect((await vault.read(arCfg(server), "a", undefined, F)).ok).toBe(true);
      expect(logins()).toBe(2);
    });

    it("logs in again once when the cached token is refused with 403", async () => {
      server = await startVaultServer({ approle, namespace: "ns1" });
      server.put(`${F}a`, { token: "t" });
      const vault = createVaultClient();
      expect((await vault.read(arCfg(server), "a", undefined, F)).ok).toBe(true);
      server.revokeLoginTokens();
      expect(await vault.read(arCfg(server), "a", undefined, F)).toEqual({ ok: true, value: { token: "t" } });
      expect(server.requests.filter((r) => r.path === "/v1/auth/approle/login").length).toBe(2);
      // a genuine 403 on a fresh token is reported, not retried forever
      server.deny(`${F}a`);
      const denied = await vault.read(arCfg(server), "a", undefined, F);
      expect(denied.ok ? "ok" : denied.error.kind).toBe("missing");
      expect(server.requests.filter((r) => r.path === "/v1/auth/approle/login").length).toBe(3);
    });

    it("is unreadable when the login is refused, without echoing the secret id", async () => {
      server = await startVaultServer({ approle, namespace: "ns1" });
      const r = await createVaultClient().read({ ...arCfg(server), secretId: "wrong-secret-id-xyz" }, "a", undefined, F);
      expect(r).toEqual({ ok: false, error: { kind: "unreadable", message: "Vault AppRole login failed (HTTP 400: invalid role or secret ID)" } });
      expect(JSON.stringify(r)).not.toContain("wrong-secret-id-xyz");
    });
  });
});
