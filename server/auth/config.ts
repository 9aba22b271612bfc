/**
 * Auth.js (NextAuth v5): credentials sign-in for local users and optional OpenID Connect single
 * sign-on, JWT sessions carrying the user's id, role, tenant and session version. `auth()` is the
 * one way pages, route handlers and tRPC learn who is calling; every session is re-checked
 * against the users table (session-check.ts), so disabling, demoting or "sign out everywhere"
 * takes effect within SESSION_RECHECK_MS.
 */
import { recordSignIn, type SignInAttempt } from "../people/record-sign-in";
import NextAuth, { CredentialsSignin, type DefaultSession, type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { getDb } from "../db/client";
import { DEFAULT_TENANT_SLUG } from "../db/seed";
import { env, getEnv } from "../env";
import { logger } from "../lib/logger";
import { describeAuthError, SSO_REFUSALS } from "./auth-errors";
import { recheckSession } from "./session-check";
import { SignInThrottle, clientAddress } from "./sign-in-throttle";
import { readSessionState, signInWithSso, verifyPassword, type Role } from "./user-repository";

declare module "next-auth" {
  interface Session {
    user: { id: string; role: Role; tenantId: string } & DefaultSession["user"];
  }
  interface User {
    role?: Role;
    tenantId?: string;
    sessionVersion?: number;
  }
}

const LoginSchema = z.object({ email: z.string().email().max(320), password: z.string().min(1).max(200) });

export const SSO_PROVIDER_ID = "sso";

/** Refused before any password is hashed; `code` is the sentence the sign-in form shows. */
export class SignInThrottled extends CredentialsSignin {
  constructor(sentence: string) {
    super(sentence);
    this.code = sentence;
  }
}

const throttle = new SignInThrottle();

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

/** The Auth.js configuration (read per request, so tests and the route handler build the same). */
export const authConfig = (): NextAuthConfig => ({
  trustHost: true,
  secret: env.AUTH_SECRET,
  session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
  pages: { signIn: "/login", error: "/login" },
  // failed sign-ins are expected: log the kind in words, never credentials or tokens
  logger: { error: (e: Error) => logger().warn(describeAuthError(e), "sign-in failed") },
  providers: [
    Credentials({
      credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
      async authorize(raw, request) {
        const parsed = LoginSchema.safeParse(raw);
        if (!parsed.success) return null;
        const address = clientAddress(request.headers);
        const refused = throttle.check(parsed.data.email, address);
        if (refused) {
          auditSignIn({ email: parsed.data.email, ok: false, reason: "too many sign-in attempts (throttled)", method: "password" });
          throw new SignInThrottled(refused);
        }
        const user = await verifyPassword(getDb(), parsed.data.email, parsed.data.password);
        auditSignIn({ email: parsed.data.email, ok: !!user, reason: user ? undefined : "wrong email or password, or a disabled account", method: "password" });
        if (!user) {
          throttle.failed(parsed.data.email, address);
          return null;
        }
        throttle.succeeded(parsed.data.email);
        return { id: user.id, email: user.email, name: user.name, role: user.role, tenantId: user.tenantId, sessionVersion: user.sessionVersion };
      },
    }),
    ...ssoProviders(),
  ],
  callbacks: {
    async signIn({ user, account, profile }) {
      if (account?.provider !== SSO_PROVIDER_ID) return true;
      const email = typeof profile?.email === "string" ? profile.email : user.email;
      if (!email || !account.providerAccountId) return "/login?error=sso_no_email";
      // the IdP's email is trusted only when the IdP says it is verified (OpenID Connect `email_verified`)
      const verified = profile?.email_verified === true || (profile?.email_verified as unknown) === "true";
      const r = await signInWithSso(getDb(), { provider: SSO_PROVIDER_ID, subject: account.providerAccountId, email, emailVerified: verified, name: user.name, adminEmails: getEnv().SSO_ADMIN_EMAILS ?? [], tenantSlug: DEFAULT_TENANT_SLUG });
      auditSignIn({ email, ok: r.ok, reason: r.ok ? undefined : SSO_REFUSALS[`sso_${r.reason}`], method: "sso" });
      if (!r.ok) {
        logger().warn({ kind: `sso_${r.reason}`, reason: SSO_REFUSALS[`sso_${r.reason}`] }, "sign-in failed");
        return `/login?error=sso_${r.reason}`;
      }
      Object.assign(user, { id: r.user.id, role: r.user.role, tenantId: r.user.tenantId, sessionVersion: r.user.sessionVersion });
      return true;
    },
    async jwt({ token, user }) {
      if (user) {
        token.role = user.role;
        token.tenantId = user.tenantId;
        token.uid = user.id;
        token.sv = user.sessionVersion ?? 0;
        return token;
      }
      return recheckSession(token as typeof token & { uid?: string; role?: Role; tenantId?: string; sv?: number }, (id) => readSessionState(getDb(), id));
    },
    session({ session, token }) {
      session.user.id = token.uid as string;
      session.user.role = token.role as Role;
      session.user.tenantId = token.tenantId as string;
      return session;
    },
  },
});

/** Sign-ins go to the tenant's audit log; an audit write never blocks or fails a sign-in. */
function auditSignIn(attempt: SignInAttempt): void {
  recordSignIn(getDb(), attempt).catch((e: unknown) => logger().warn({ errorName: e instanceof Error ? e.name : typeof e }, "could not record a sign-in in the audit log"));
}

// `handlers` are not used for /api/auth: app/api/auth/[...nextauth]/route.ts (auth-route.ts) serves it
export const { auth, signIn, signOut } = NextAuth(authConfig);
