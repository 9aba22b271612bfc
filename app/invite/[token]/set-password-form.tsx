"use client";
import Link from "next/link";
import { useActionState } from "react";
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
      <label className="block">
        <span className="text-sm font-medium">New password</span>
        <input name="password" type="password" autoComplete="new-password" required minLength={12} className="mt-1 w-full rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900" />
      </label>
      <label className="block">
        <span className="text-sm font-medium">Repeat the password</span>
        <input name="confirm" type="password" autoComplete="new-password" required className="mt-1 w-full rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900" />
      </label>
      <p className="text-sm text-slate-600 dark:text-slate-400">At least 12 characters, not a commonly used password; a few unrelated words work well.</p>
      {state.error ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
          {state.error}
        </p>
      ) : null}
      <button type="submit" disabled={pending} className="w-full rounded-md bg-indigo-600 px-3 py-2 font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
        {pending ? "Setting the password…" : "Set password"}
      </button>
    </form>
  );
}
