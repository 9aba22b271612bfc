/**
 * Serves /api/auth/* (sign-in callbacks, sign-out, session) with one canonical origin.
 *
 * Why not next-auth's own `handlers`: they pass the request through `NextRequest`, whose URL
 * rewrites loopback hosts (127.0.0.1, [::1]) to `localhost`. Auth.js builds the token request's
 * `redirect_uri` from that URL, while `signIn()` builds the authorization request's from AUTH_URL
 * or the Host header, so an app reached at http://127.0.0.1:… sent two different redirect URIs and
 * the issuer refused the code. Here the request Auth.js sees is a plain `Request` on the origin
 * from canonical-origin.ts, the same one `signIn()` uses.
 */
import { Auth, setEnvDefaults } from "@auth/core";
import { getEnv } from "../env";
import { authOrigin } from "./canonical-origin";
import { authConfig } from "./config";

export const AUTH_BASE_PATH = "/api/auth";

export async function handleAuthRequest(req: Request): Promise<Response> {
  const config = authConfig();
  config.basePath = AUTH_BASE_PATH;
  const e = getEnv();
  setEnvDefaults({ AUTH_URL: e.AUTH_URL, AUTH_SECRET: e.AUTH_SECRET }, config, true);
  const url = new URL(req.url);
  const target = `${authOrigin(req.headers, url.origin)}${url.pathname}${url.search}`;
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
  return Auth(new Request(target, { method: req.method, headers: req.headers, body }), config);
}
