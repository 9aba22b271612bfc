/**
 * Security headers for every page and API answer (proxy.ts sets them). Scripts run only with
 * the per-request nonce that Next.js puts on its own inline scripts ('strict-dynamic' lets those
 * load the chunks); styles allow inline (Recharts and next/font use style attributes). The app
 * is never framed. HSTS only when the app is served over https (AUTH_URL or the proxy says so).
 */
export function contentSecurityPolicy(nonce: string, opts: { dev?: boolean } = {}): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${opts.dev ? " ws: wss:" : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export const STATIC_SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
};

export const HSTS = "max-age=31536000; includeSubDomains";

export function servedOverHttps(headers: Headers, requestUrl: string, authUrl: string | undefined): boolean {
  if (authUrl) return new URL(authUrl).protocol === "https:";
  const proto = headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  return (proto ?? new URL(requestUrl).protocol.replace(/:$/, "")) === "https";
}
