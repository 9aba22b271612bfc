import { CallbackRouteError, CredentialsSignin } from "@auth/core/errors";
import { describe, expect, it } from "vitest";
import { describeAuthError, signInErrorSentence } from "./auth-errors";

describe("sign-in failures in words", () => {
  it("logs the kind from the error's type, which survives minification, never the minified class name", () => {
    class j extends CredentialsSignin {}
    expect(describeAuthError(new j())).toEqual({ authError: "CredentialsSignin", reason: "wrong email or password, or a disabled account" });
    const throttled = new CredentialsSignin();
    throttled.code = "Too many sign-in attempts; try again in 15 minutes.";
    expect(describeAuthError(throttled)).toEqual({ authError: "SignInThrottled", reason: "Too many sign-in attempts; try again in 15 minutes." });
    const oauthFailure = Object.assign(new Error("server responded with an error in the response body"), { error: "invalid_grant", error_description: "grant request is invalid" });
    // Auth.js passes the failing Error itself (kept as cause.err); its typings only admit a string
    const cb = new CallbackRouteError(oauthFailure as unknown as string);
    expect(describeAuthError(cb)).toEqual({ authError: "CallbackRouteError", reason: "the sign-in callback failed", cause: "server responded with an error in the response body", oauthError: "invalid_grant: grant request is invalid" });
  });
  it("says on the sign-in page why single sign-on refused", () => {
    expect(signInErrorSentence("sso_email_not_verified")).toMatch(/did not confirm that your email address is verified/);
    expect(signInErrorSentence("sso_disabled")).toBe("This account is disabled. Ask an admin.");
    expect(signInErrorSentence("Configuration")).toBe("Sign-in did not complete; try again.");
    expect(signInErrorSentence(undefined)).toBeNull();
  });
});
