/**
 * A local authorization server (node:http) that answers exactly as one vendor documents: each
 * test gives it the vendor's documented example responses. It records every request (method,
 * path, query, headers, parsed form or JSON body) so tests can check what our client sent: the
 * client authentication, PKCE, scope separator and extra parameters the vendor documents.
 *
 * `/authorize` plays the admin approving in the browser: it records the query and redirects to
 * `redirect_uri` with a code and the state, as RFC 6749 §4.1.2 (and every vendor here) describes.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Recorded = {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  form: URLSearchParams;
  json: unknown;
  raw: string;
};

export type Reply = { status?: number; headers?: Record<string, string>; json?: unknown };
export type Route = (req: Recorded) => Reply | Promise<Reply>;

export type VendorServer = {
  url: string;
  requests: Recorded[];
  /** requests to one path */
  at: (path: string) => Recorded[];
  route: (method: string, path: string, handler: Route) => void;
  close: () => Promise<void>;
};

export async function startVendorServer(): Promise<VendorServer> {
  const routes = new Map<string, Route>();
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const u = new URL(req.url ?? "/", "http://local");
      const type = req.headers["content-type"] ?? "";
      let json: unknown;
      if (type.includes("json") && raw) {
        try {
          json = JSON.parse(raw);
        } catch {
          json = undefined;
        }
      }
      const rec: Recorded = { method: req.method ?? "GET", path: u.pathname, query: u.searchParams, headers: req.headers, form: new URLSearchParams(type.includes("x-www-form-urlencoded") ? raw : ""), json, raw };
      requests.push(rec);
      if (rec.path === "/authorize" && !routes.has("GET /authorize")) {
        const to = new URL(u.searchParams.get("redirect_uri") ?? "http://invalid/");
        to.searchParams.set("code", `code-${requests.length}`);
        to.searchParams.set("state", u.searchParams.get("state") ?? "");
        res.writeHead(302, { location: to.toString() }).end();
        return;
      }
      const handler = routes.get(`${rec.method} ${rec.path}`);
      if (!handler) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not_found" }));
        return;
      }
      const reply = await handler(rec);
      res.writeHead(reply.status ?? 200, { "content-type": "application/json", "cache-control": "no-store", ...(reply.headers ?? {}) }).end(reply.json === undefined ? "" : JSON.stringify(reply.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    at: (path) => requests.filter((r) => r.path === path),
    route: (method, path, handler) => routes.set(`${method} ${path}`, handler),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** HTTP Basic credentials of a request (RFC 7617), or null. */
export function basicAuth(r: Recorded): { user: string; password: string } | null {
  const h = r.headers.authorization ?? "";
  if (!h.startsWith("Basic ")) return null;
  const text = Buffer.from(h.slice(6), "base64").toString("utf8");
  const i = text.indexOf(":");
  // RFC 6749 §2.3.1: client_id and client_secret are form-urlencoded before Basic encoding
  return { user: decodeURIComponent(text.slice(0, i).replace(/\+/g, " ")), password: decodeURIComponent(text.slice(i + 1).replace(/\+/g, " ")) };
}

/**
 * A signature-checking JWT verifier (RS256): the header and claims when the signature verifies
 * with `publicKey`, else throws. Claims are then checked by each test against the vendor's docs.
 */
export function verifyRs256(jwt: string, publicKey: KeyObject | string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const parts = jwt.split(".");
  if (parts.length !== 3) throw new Error("not a compact JWS");
  const [h, c, sig] = parts as [string, string, string];
  const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>;
  if (header.alg !== "RS256") throw new Error(`alg ${String(header.alg)}`);
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  if (!verify("sha256", Buffer.from(`${h}.${c}`), key, Buffer.from(sig, "base64url"))) throw new Error("bad signature");
  return { header, claims: JSON.parse(Buffer.from(c, "base64url").toString("utf8")) as Record<string, unknown> };
}
