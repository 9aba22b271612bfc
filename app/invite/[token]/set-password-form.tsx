"use client";
import Link from "next/link";
import { useActionState } from "react";
import { FormError, LabeledInput, SubmitButton } from "@/components/form-parts";
import type { SetPasswordState } from "./actions";

export function SetPasswordForm({ action, email }: { action: (prev: SetPasswordState, form: FormData) => Promise<SetPasswordState>; email: string }) {
  const [state, submit, pending] = useActionState<SetPasswordState, FormData>(action, {});
  if (state.done) {
    return (
      <div role="status" className="space-y-3">
        <p>{state.done.kind === "invite" ? `Your account ${state.done.email} is ready.` : `The password of ${state.done.email} is changed; other sessions were signed out.`}</p>
        <Link href="/login" className="inline-block rounded-md bg-indigo-600 px-3 py-2 font-medium text-white hover:bg-indigo-500">
          Sign in
        </Link>
      </div>
    );
  }
  return (
    <form action={submit} className="space-y-4" noValidate>
      {/* lets password managers store the new password for the right account */}
      <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
      <LabeledInput label="New password" name="password" type="password" autoComplete="new-password" required minLength={12} />
      <LabeledInput label="Repeat the password" name="confirm" type="password" autoComplete="new-password" required />
      <p className="text-sm text-slate-600 dark:text-slate-400">At least 12 characters, not a commonly used password; a few unrelated words work well.</p>
      <FormError message={state.error} />
      <SubmitButton pending={pending} idle="Set password" busy="Setting the password…" />
    </form>
  );
}
