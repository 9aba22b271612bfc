/**
 * Sign-in failures in words, for the log and the sign-in page. Auth.js error class names are
 * minified in the built app (a failed sign-in logged `"authError":"j"`), so the kind comes from
 * the error's static `type`, which survives minification.
 */
export const SSO_REFUSALS: Record<string, string> = {
  sso_email_not_verified: "The identity provider did not confirm that your email address is verified, so single sign-on cannot use it. Ask your identity provider's administrator.",
  sso_disabled: "This account is disabled. Ask an admin.",
  sso_no_tenant: "Single sign-on is not set up for this app yet. Ask an operator.",
  sso_no_email: "The identity provider did not send an email address.",
};

const KINDS: Record<string, string> = {
  CredentialsSignin: "wrong email or password, or a disabled account",
  CallbackRouteError: "the sign-in callback failed",
  OAuthCallbackError: "the identity provider returned an error",
  InvalidCheck: "the sign-in state, nonce or PKCE check failed (an expired or replayed sign-in)",
  AccessDenied: "access denied",
  JWTSessionError: "a session cookie could not be read (signed with another AUTH_SECRET, or tampered)",
  MissingCSRF: "the sign-in form's CSRF token was missing",
  OAuthSignInError: "the sign-in could not be started with the identity provider",
  Configuration: "the sign-in configuration is invalid",
};

export function describeAuthError(e: Error): Record<string, string> {
  const type = (e as { type?: string }).type ?? e.name;
  const cause = (e.cause as { err?: Error & { error?: string; error_description?: string } } | undefined)?.err;
  const code = (e as { code?: string }).code;
  // the throttle's refusal is a CredentialsSignin whose code is its sentence
  if (type === "CredentialsSignin" && code && code !== "credentials") return { authError: "SignInThrottled", reason: code };
  const out: Record<string, string> = { authError: type, reason: KINDS[type] ?? "sign-in failed" };
  if (cause?.message) out.cause = cause.message.slice(0, 200);
  const oauth = [cause?.error, cause?.error_description].filter(Boolean).join(": ");
  if (oauth) out.oauthError = oauth.slice(0, 200);
  return out;
}

/** The sign-in page's sentence for `?error=` (Auth.js kinds and our own SSO refusals). */
export function signInErrorSentence(error: string | undefined): string | null {
  if (!error) return null;
  if (SSO_REFUSALS[error]) return SSO_REFUSALS[error]!;
  if (error === "AccessDenied") return "Sign-in was refused. Ask an admin.";
  if (error === "Verification" || error === "InvalidCheck") return "That sign-in link has expired; start again.";
  return "Sign-in did not complete; try again.";
}
