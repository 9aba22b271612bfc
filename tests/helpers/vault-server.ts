/**
 * A HashiCorp Vault stand-in for tests (no Vault binary offline): KV v2 reads at
 * `GET /v1/<mount>/data/<path>` answered in Vault's own shapes, AppRole login, an optional
 * namespace that must arrive in X-Vault-Namespace, denied paths (403), revocable tokens and a
 * sealed switch (503 {"errors":["Vault is sealed"]}).
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type VaultServerOptions = {
  mount?: string;
  /** a static token accepted for reads (default: random) */
  token?: string;
  approle?: { roleId: string; secretId: string; leaseDuration?: number };
  /** when set, every request must carry this X-Vault-Namespace */
  namespace?: string;
};

export type VaultServer = {
  url: string;
  token: string;
  mount: string;
  put(path: string, data: Record<string, unknown>): void;
  /** soft-delete the latest version, as `vault kv delete` does */
  softDelete(path: string): void;
  /** reads of this path answer 403 permission denied */
  deny(path: string): void;
  /** invalidate every token handed out by AppRole login so far */
  revokeLoginTokens(): void;
  seal(): void;
  unseal(): void;
  /** requests seen, newest last (method, path, token header present) */
  requests: Array<{ method: string; path: string; token?: string; namespace?: string }>;
  /** make the next requests hang (for timeout tests) */
  hang(on: boolean): void;
  close(): Promise<void>;
};

type Version = { data: Record<string, unknown> | null; created_time: string; deletion_time: string; version: number };

export async function startVaultServer(opts: VaultServerOptions = {}): Promise<VaultServer> {
  const mount = opts.mount ?? "secret";
  const rootToken = opts.token ?? `hvs.${randomBytes(12).toString("hex")}`;
  const secrets = new Map<string, Version[]>();
  const denied = new Set<string>();
  const loginTokens = new Set<string>();
  const requests: VaultServer["requests"] = [];
  let sealed = false;
  let hanging = false;

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://vault");
      const token = req.headers["x-vault-token"] as string | undefined;
      const namespace = req.headers["x-vault-namespace"] as string | undefined;
      requests.push({ method: req.method ?? "", path: url.pathname, token, namespace });
      if (hanging) return; // never answer
      if (sealed) return send(res, 503, { errors: ["Vault is sealed"] });
      if (opts.namespace && namespace !== opts.namespace) {
        // Vault answers an unknown namespace path as a permission problem for the token.
        return send(res, 403, { errors: ["permission denied"] });
      }
      if (req.method === "POST" && url.pathname === "/v1/auth/approle/login") {
        let body: { role_id?: string; secret_id?: string } = {};
        try {
          body = JSON.parse(raw || "{}");
        } catch {
          return send(res, 400, { errors: ["failed to parse JSON input"] });
        }
        if (!opts.approle || body.role_id !== opts.approle.roleId || body.secret_id !== opts.approle.secretId) {
          return send(res, 400, { errors: ["invalid role or secret ID"] });
        }
        const clientToken = `hvs.${randomBytes(12).toString("hex")}`;
        loginTokens.add(clientToken);
        return send(res, 200, {
          request_id: randomBytes(8).toString("hex"),
          lease_id: "",
          renewable: false,
          lease_duration: 0,
          data: null,
          wrap_info: null,
          warnings: null,
          auth: { client_token: clientToken, accessor: randomBytes(8).toString("hex"), policies: ["default", "aam-read"], token_policies: ["default", "aam-read"], metadata: { role_name: "aam" }, lease_duration: opts.approle.leaseDuration ?? 2764800, renewable: true, entity_id: "", token_type: "service", orphan: true },
        });
      }
      const prefix = `/v1/${mount}/data/`;
      if (req.method === "GET" && url.pathname.startsWith(prefix)) {
        if (!token || (token !== rootToken && !loginTokens.has(token))) return send(res, 403, { errors: ["permission denied"] });
        const path = decodeURIComponent(url.pathname.slice(prefix.length));
        if (denied.has(path)) return send(res, 403, { errors: ["1 error occurred:\n\t* permission denied\n\n"] });
        const versions = secrets.get(path);
        const latest = versions?.at(-1);
        if (!latest) return send(res, 404, { errors: [] });
        const metadata = { created_time: latest.created_time, custom_metadata: null, deletion_time: latest.deletion_time, destroyed: false, version: latest.version };
        if (latest.data === null) return send(res, 404, { request_id: "", lease_id: "", renewable: false, lease_duration: 0, data: { data: null, metadata }, wrap_info: null, warnings: null, auth: null });
        return send(res, 200, { request_id: randomBytes(8).toString("hex"), lease_id: "", renewable: false, lease_duration: 0, data: { data: latest.data, metadata }, wrap_info: null, warnings: null, auth: null });
      }
      return send(res, 404, { errors: [] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token: rootToken,
    mount,
    put(path, data) {
      const versions = secrets.get(path) ?? [];
      versions.push({ data, created_time: new Date().toISOString(), deletion_time: "", version: versions.length + 1 });
      secrets.set(path, versions);
    },
    softDelete(path) {
      const latest = secrets.get(path)?.at(-1);
      if (latest) Object.assign(latest, { data: null, deletion_time: new Date().toISOString() });
    },
    deny: (path) => void denied.add(path),
    revokeLoginTokens: () => loginTokens.clear(),
    seal: () => void (sealed = true),
    unseal: () => void (sealed = false),
    hang: (on) => void (hanging = on),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
