/**
 * Runs before every page and route: a fresh CSP nonce per request (Next.js reads it from the
 * request's Content-Security-Policy header and puts it on its inline scripts), the security
 * headers, and HSTS when served over https.
 */
import { NextResponse, type NextRequest } from "next/server";
import { getEnv } from "@/server/env";
import { HSTS, STATIC_SECURITY_HEADERS, contentSecurityPolicy, servedOverHttps } from "@/server/http/security-headers";

export function proxy(req: NextRequest) {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const csp = contentSecurityPolicy(nonce, { dev: getEnv().NODE_ENV === "development" });
  const requestHeaders = new Headers(req.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("content-security-policy", csp);
  const res = NextResponse.next({ request: { headers: requestHeaders } });
  res.headers.set("content-security-policy", csp);
  for (const [k, v] of Object.entries(STATIC_SECURITY_HEADERS)) res.headers.set(k, v);
  if (servedOverHttps(req.headers, req.url, getEnv().AUTH_URL)) res.headers.set("strict-transport-security", HSTS);
  return res;
}

export const config = {
  // static assets get the static headers from next.config.ts
  matcher: [{ source: "/((?!_next/static|_next/image|favicon.ico).*)" }],
};
