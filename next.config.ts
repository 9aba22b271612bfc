import type { NextConfig } from "next";
import { STATIC_SECURITY_HEADERS } from "./server/http/security-headers";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // forbidden() renders app/forbidden.tsx with HTTP 403 for signed-in users without the role
  experimental: { authInterrupts: true },
  // Node libraries with optional native parts stay out of the bundle.
  serverExternalPackages: ["pg", "libpg-query", "graphile-worker", "pino", "mysql2", "mongodb", "@aws-sdk/client-s3", "bcryptjs"],
  // pages and API answers also get a nonce CSP and HSTS from proxy.ts
  async headers() {
    return [{ source: "/:path*", headers: Object.entries(STATIC_SECURITY_HEADERS).map(([key, value]) => ({ key, value })) }];
  },
};

export default nextConfig;
