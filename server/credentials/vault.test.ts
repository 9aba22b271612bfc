import { afterEach, describe, expect, it } from "vitest";
import { startVaultServer, type VaultServer } from "../../tests/helpers/vault-server";
import { createVaultClient, type VaultConfig } from "./vault";

let server: VaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const cfg = (s: VaultServer, extra: Partial<VaultConfig> = {}): VaultConfig => ({ addr: s.url, token: s.token, mount: s.mount, ...extra });

describe("Vault KV v2 client", () => {
  it("reads all fields of a secret, or one field with #key", async () => {
    server = await startVaultServer();
    server.put("apps/postgres", { username: "app", password: "pg-pass-1", port: 5432 });
    const vault = createVaultClient();
    expect(await vault.read(cfg(server), "apps/postgres")).toEqual({ ok: true, value: { username: "app", password: "pg-pass-1", port: "5432" } });
    expect(await vault.read(cfg(server), "apps/postgres", "password")).toEqual({ ok: true, value: { password: "pg-pass-1" } });
    const req = server.requests.at(-1)!;
    expect(req).toMatchObject({ method: "GET", path: "/v1/secret/data/apps/postgres", token: server.token });
  });

  it("returns the latest version", async () => {
    server = await startVaultServer();
    server.put("apps/crm", { token: "v1" });
    server.put("apps/crm", { token: "v2" });
    expect(await createVaultClient().read(cfg(server), "apps/crm", "token")).toEqual({ ok: true, value: { token: "v2" } });
  });

  it("uses the configured KV mount", async () => {
    server = await startVaultServer({ mount: "kv" });
    server.put("x", { token: "t" });
    expect((await createVaultClient().read(cfg(server), "x")).ok).toBe(true);
    expect(server.requests.at(-1)!.path).toBe("/v1/kv/data/x");
    const wrongMount = await createVaultClient().read(cfg(server, { mount: "secret" }), "x");
    expect(wrongMount).toEqual({ ok: false, error: { kind: "missing", message: "Vault secret secret/x not found" } });
  });

  it("is missing when VAULT_ADDR is unset, when no credentials are set, and for unknown paths, deleted versions or fields", async () => {
    const vault = createVaultClient();
    expect(await vault.read({ mount: "secret" }, "a")).toEqual({ ok: false, error: { kind: "missing", message: "Vault is not configured: set VAULT_ADDR" } });
    server = await startVaultServer();
    expect(await vault.read({ addr: server.url, mount: "secret" }, "a")).toEqual({ ok: false, error: { kind: "missing", message: expect.stringMatching(/set VAULT_TOKEN, or VAULT_ROLE_ID/) } });
    expect(await vault.read(cfg(server), "nope")).toEqual({ ok: false, error: { kind: "missing", message: "Vault secret secret/nope not found" } });
    server.put("gone", { token: "old" });
    server.softDelete("gone");
    expect(await vault.read(cfg(server), "gone")).toEqual({ ok: false, error: { kind: "missing", message: "Vault secret secret/gone has been deleted" } });
    server.put("apps/pg", { password: "x" });
    expect(await vault.read(cfg(server), "apps/pg", "dsn")).toEqual({ ok: false, error: { kind: "missing", message: 'Vault secret secret/apps/pg has no field "dsn"' } });
  });

  it("is unreadable with access denied on 403, without echoing the token", async () => {
    server = await startVaultServer();
    server.put("locked", { token: "t" });
    server.deny("locked");
    const r = await createVaultClient().read(cfg(server), "locked");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe("unreadable");
    expect(r.error.message).toMatch(/^reading Vault secret secret\/locked: access denied \(HTTP 403/);
    const bad = await createVaultClient().read(cfg(server, { token: "hvs.not-valid-token" }), "locked");
    expect(bad.ok || bad.error.message).toMatch(/access denied/);
    expect(JSON.stringify(bad)).not.toContain("hvs.not-valid-token");
  });

  it("is unreadable when Vault is sealed", async () => {
    server = await startVaultServer();
    server.put("a", { token: "t" });
    server.seal();
    expect(await createVaultClient().read(cfg(server), "a")).toEqual({ ok: false, error: { kind: "unreadable", message: "Vault is sealed" } });
    server.unseal();
    expect((await createVaultClient().read(cfg(server), "a")).ok).toBe(true);
  });

  it("is unreadable when Vault is unreachable or does not answer in time", async () => {
    server = await startVaultServer();
    const addr = server.url;
    server.hang(true);
    const slow = await createVaultClient({ timeoutMs: 200 }).read(cfg(server), "a");
    expect(slow).toEqual({ ok: false, error: { kind: "unreadable", message: "Vault did not answer within 0.2 s" } });
    await server.close();
    server = undefined;
    const down = await createVaultClient().read({ addr, token: "hvs.static-token-1", mount: "secret" }, "a");
    expect(down).toEqual({ ok: false, error: { kind: "unreadable", message: "Vault is unreachable (ECONNREFUSED)" } });
  });

  it("sends X-Vault-Namespace when a namespace is configured", async () => {
    server = await startVaultServer({ namespace: "team-a" });
    server.put("a", { token: "t" });
    expect((await createVaultClient().read(cfg(server), "a")).ok).toBe(false);
    expect(await createVaultClient().read(cfg(server, { namespace: "team-a" }), "a")).toEqual({ ok: true, value: { token: "t" } });
    expect(server.requests.at(-1)!.namespace).toBe("team-a");
  });

  describe("AppRole", () => {
    const approle = { roleId: "role-1", secretId: "approle-secret-id-1" };
    const arCfg = (s: VaultServer): VaultConfig => ({ addr: s.url, roleId: approle.roleId, secretId: approle.secretId, namespace: "ns1", mount: "secret" });

    it("logs in once and reuses the token until its lease runs out", async () => {
      server = await startVaultServer({ approle: { ...approle, leaseDuration: 60 }, namespace: "ns1" });
      server.put("a", { token: "t" });
      let clock = Date.parse("2030-01-01T00:00:00Z");
      const vault = createVaultClient({ now: () => new Date(clock) });
      const logins = () => server!.requests.filter((r) => r.path === "/v1/auth/approle/login").length;
      await Promise.all([vault.read(arCfg(server), "a"), vault.read(arCfg(server), "a")]);
      expect((await vault.read(arCfg(server), "a")).ok).toBe(true);
      expect(logins()).toBe(1);
      expect(server.requests.find((r) => r.path === "/v1/auth/approle/login")!.namespace).toBe("ns1");
      clock += 61_000;
      expect((await vault.read(arCfg(server), "a")).ok).toBe(true);
      expect(logins()).toBe(2);
    });

    it("logs in again once when the cached token is refused with 403", async () => {
      server = await startVaultServer({ approle, namespace: "ns1" });
      server.put("a", { token: "t" });
      const vault = createVaultClient();
      expect((await vault.read(arCfg(server), "a")).ok).toBe(true);
      server.revokeLoginTokens();
      expect(await vault.read(arCfg(server), "a")).toEqual({ ok: true, value: { token: "t" } });
      expect(server.requests.filter((r) => r.path === "/v1/auth/approle/login").length).toBe(2);
      // a genuine 403 on a fresh token is reported, not retried forever
      server.deny("a");
      const denied = await vault.read(arCfg(server), "a");
      expect(denied.ok ? "ok" : denied.error.kind).toBe("unreadable");
      expect(server.requests.filter((r) => r.path === "/v1/auth/approle/login").length).toBe(3);
    });

    it("is unreadable when the login is refused, without echoing the secret id", async () => {
      server = await startVaultServer({ approle, namespace: "ns1" });
      const r = await createVaultClient().read({ ...arCfg(server), secretId: "wrong-secret-id-xyz" }, "a");
      expect(r).toEqual({ ok: false, error: { kind: "unreadable", message: "Vault AppRole login failed (HTTP 400: invalid role or secret ID)" } });
      expect(JSON.stringify(r)).not.toContain("wrong-secret-id-xyz");
    });
  });
});
