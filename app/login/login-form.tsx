"use client";
import { useActionState } from "react";
import { FormError, LabeledInput, SubmitButton } from "@/components/form-parts";
import { login, type LoginState } from "./actions";

export function LoginForm() {
  const [state, action, pending] = useActionState<LoginState, FormData>(login, {});
  return (
    <form action={action} className="space-y-4" noValidate>
      <LabeledInput label="Email" name="email" type="email" autoComplete="username" required />
      <LabeledInput label="Password" name="password" type="password" autoComplete="current-password" required />
      <FormError message={state.error} />
      <SubmitButton pending={pending} idle="Sign in" busy="Signing in…" />
    </form>
  );
}
