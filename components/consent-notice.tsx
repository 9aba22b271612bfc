"use client";
/** The outcome of an admin consent, in words, from the `?consent=<code>` the OAuth callback redirects with. */
import { useSearchParams } from "next/navigation";
import { consentNotice } from "@/server/credentials/consent-notice";

const TONE = {
  ok: "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-200",
  warn: "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200",
  error: "border-red-300 bg-red-50 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-200",
} as const;

export function ConsentNotice() {
  const notice = consentNotice(useSearchParams().get("consent"));
  if (!notice) return null;
  return (
    <p role="status" data-testid="consent-notice" className={`rounded-lg border px-3 py-2 text-sm ${TONE[notice.tone]}`}>
      {notice.text}
    </p>
  );
}
