"use server";
import { AuthError, CredentialsSignin } from "next-auth";
import { auth, signIn, signOut } from "@/server/auth/config";
import { forgetSessionState } from "@/server/auth/session-check";
import { bumpSessionVersion } from "@/server/auth/user-repository";
import { getDb } from "@/server/db/client";

export type LoginState = { error?: string };

export async function login(_prev: LoginState, form: FormData): Promise<LoginState> {
  try {
    await signIn("credentials", { email: form.get("email"), password: form.get("password"), redirectTo: "/" });
    return {};
  } catch (err) {
    // the throttle's code is its sentence ("Too many sign-in attempts; try again in N minutes.")
    if (err instanceof CredentialsSignin && err.code && err.code !== "credentials") return { error: err.code };
    if (err instanceof AuthError) return { error: "That email and password do not match an account." };
    throw err; // the redirect after a successful sign-in
  }
}

export async function loginWithSso(): Promise<void> {
  await signIn("sso", { redirectTo: "/" });
}

/** Ends every session of this user, on every device (the session version is bumped), then this one. */
export async function signOutEverywhere(): Promise<void> {
  const session = await auth();
  if (session?.user?.id) {
    await bumpSessionVersion(getDb(), session.user.id);
    forgetSessionState(session.user.id);
  }
  await signOut({ redirectTo: "/login?signed_out=everywhere" });
}
