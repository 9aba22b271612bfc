/**
 * Auth.js (NextAuth v5): credentials sign-in for local users, JWT sessions carrying the user's
 * role and tenant. `auth()` is the one way pages, route handlers and tRPC learn who is calling.
 */
import NextAuth, { type DefaultSession } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { getDb } from "../db/client";
import { env, getEnv } from "../env";
import { logger } from "../lib/logger";
import { DEFAULT_TENANT_SLUG } from "../db/seed";
import { provisionSsoUser, verifyPassword, type Role } from "./user-repository";

declare module "next-auth" {
  interface Session {
    user: { id: string; role: Role; tenantId: string } & DefaultSession["user"];
  }
  interface User {
    role?: Role;
    tenantId?: string;
  }
}

const LoginSchema = z.object({ email: z.string().email().max(320), password: z.string().min(1).max(200) });

export const SSO_PROVIDER_ID = "sso";

/** The single sign-on button's label, or null when SSO is not configured. */
export function ssoName(): string | null {
  const e = getEnv();
  return e.SSO_ISSUER && e.SSO_CLIENT_ID && e.SSO_CLIENT_SECRET ? e.SSO_NAME : null;
}

function ssoProviders() {
  const e = getEnv();
  if (!ssoName()) return [];
  return [
    {
      id: SSO_PROVIDER_ID,
      name: e.SSO_NAME,
      type: "oidc" as const,
      issuer: e.SSO_ISSUER,
      clientId: e.SSO_CLIENT_ID,
      clientSecret: e.SSO_CLIENT_SECRET,
      checks: ["pkce" as const, "state" as const, "nonce" as const],
      authorization: { params: { scope: "openid email profile" } },
    },
  ];
}

export const { handlers, auth, signIn, signOut } = NextAuth(() => ({
  trustHost: true,
  secret: env.AUTH_SECRET,
  session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
  pages: { signIn: "/login" },
  // failed sign-ins are expected: log the kind of error only, never credentials or tokens
  logger: { error: (e: Error) => logger().warn({ authError: e.name, cause: (e.cause as { err?: Error } | undefined)?.err?.message?.slice(0, 200), oauthError: ((e.cause as { err?: { error?: string; error_description?: string } } | undefined)?.err?.error ?? "") + " " + ((e.cause as { err?: { error_description?: string } } | undefined)?.err?.error_description ?? "") }, "sign-in failed") },
  providers: [
    Credentials({
      credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
      async authorize(raw) {
        const parsed = LoginSchema.safeParse(raw);
        if (!parsed.success) return null;
        const user = await verifyPassword(getDb(), parsed.data.email, parsed.data.password);
        return user ? { id: user.id, email: user.email, name: user.name, role: user.role, tenantId: user.tenantId } : null;
      },
    }),
    ...ssoProviders(),
  ],
  callbacks: {
    async signIn({ user, account }) {
      if (account?.provider !== SSO_PROVIDER_ID) return true;
      if (!user.email) return false;
      // the role and tenant come from our users table, created on the first SSO sign-in
      const local = await provisionSsoUser(getDb(), { email: user.email, name: user.name, adminEmails: getEnv().SSO_ADMIN_EMAILS ?? [], tenantSlug: DEFAULT_TENANT_SLUG });
      if (!local) return false;
      Object.assign(user, { id: local.id, role: local.role, tenantId: local.tenantId });
      return true;
    },
    jwt({ token, user }) {
      if (user) {
        token.role = user.role;
        token.tenantId = user.tenantId;
        token.uid = user.id;
      }
      return token;
    },
    session({ session, token }) {
      session.user.id = token.uid as string;
      session.user.role = token.role as Role;
      session.user.tenantId = token.tenantId as string;
      return session;
    },
  },
}));
