"use server";
import { AuthError } from "next-auth";
import { signIn } from "@/server/auth/config";

export type LoginState = { error?: string };

export async function login(_prev: LoginState, form: FormData): Promise<LoginState> {
  try {
    await signIn("credentials", { email: form.get("email"), password: form.get("password"), redirectTo: "/" });
    return {};
  } catch (err) {
    if (err instanceof AuthError) return { error: "That email and password do not match an account." };
    throw err; // the redirect after a successful sign-in
  }
}

export async function loginWithSso(): Promise<void> {
  await signIn("sso", { redirectTo: "/" });
}
