/**
 * The app's public origin for sign-in: AUTH_URL when set, else what the browser asked for
 * (X-Forwarded-Host / Host and X-Forwarded-Proto), the same rule Auth.js's `signIn()` uses to
 * build the authorization request. The OpenID Connect redirect URI is `<origin>/api/auth/callback/sso`
 * in both the authorization and the token request.
 */
import { getEnv } from "../env";

export function authOrigin(headers: Headers, fallback: string): string {
  const configured = getEnv().AUTH_URL;
  if (configured) return new URL(configured).origin;
  const host = headers.get("x-forwarded-host") ?? headers.get("host");
  if (!host) return fallback;
  const proto = (headers.get("x-forwarded-proto") ?? new URL(fallback).protocol).replace(/:$/, "");
  try {
    return new URL(`${proto}://${host}`).origin;
  } catch {
    return fallback;
  }
}
