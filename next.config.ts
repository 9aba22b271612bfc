import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // forbidden() renders app/forbidden.tsx with HTTP 403 for signed-in users without the role
  experimental: { authInterrupts: true },
  // Node libraries with optional native parts stay out of the bundle.
  serverExternalPackages: ["pg", "libpg-query", "graphile-worker", "pino", "mysql2", "mongodb", "@aws-sdk/client-s3", "bcryptjs"],
};

export default nextConfig;
