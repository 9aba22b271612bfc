"use client";
/** The one button of the consent page: starts the flow on the server, which sends the browser to the provider. */
import { useActionState } from "react";
import type { BeginConsentState } from "@/app/(app)/connections/[id]/consent/actions";

export function ConsentStartForm({
  action,
  providerName,
  disabled,
  connectionIds = [],
}: {
  action: (prev: BeginConsentState, form: FormData) => Promise<BeginConsentState>;
  providerName: string;
  disabled: boolean;
  /** the connections listed on the screen: the consent resumes exactly these */
  connectionIds?: string[];
}) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form action={formAction} className="flex flex-wrap items-center gap-3">
      {connectionIds.map((id) => (
        <input key={id} type="hidden" name="connection_ids" value={id} />
      ))}
      <button
        type="submit"
        disabled={disabled || pending}
        className="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:cursor-not-allowed disabled:opacity-60"
      >
        {pending ? `Opening ${providerName}…` : `Continue to ${providerName}`}
      </button>
      {state.error ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-300">
          {state.error}
        </p>
      ) : null}
    </form>
  );
}
