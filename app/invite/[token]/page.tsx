/**
 * The public page of an invite or password-reset link: says whom it is for and lets them set a
 * password (strength checked on the server). No sign-in needed; the link is the credential, so
 * the page sends no Referer and is never cached.
 */
import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/server/db/client";
import { describeLink } from "@/server/people/accept-invite";
import { setPasswordFromLink } from "./actions";
import { SetPasswordForm } from "./set-password-form";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Set your password · AAM Auto-Onboarding", referrer: "no-referrer", robots: { index: false } };

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const link = await describeLink({ db: getDb() }, token);
  return (
    <main className="mx-auto flex min-h-screen max-w-sm flex-col justify-center px-4">
      <h1 className="mb-1 text-2xl font-semibold">{link.ok && link.value.kind === "reset" ? "Choose a new password" : "Set your password"}</h1>
      {link.ok ? (
        <>
          <p className="mb-6 text-sm text-slate-600 dark:text-slate-400">
            {link.value.kind === "invite" ? `You are invited to ${link.value.tenantName} as ${link.value.email}.` : `For ${link.value.email} (${link.value.tenantName}).`} This link works once, until{" "}
            {link.value.expiresAt.toISOString().slice(0, 16).replace("T", " ")} UTC.
          </p>
          <SetPasswordForm action={setPasswordFromLink.bind(null, token)} email={link.value.email} />
        </>
      ) : (
        <>
          <p role="alert" className="mb-6 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
            {link.error.message}
          </p>
          <Link href="/login" className="text-indigo-600 underline dark:text-indigo-400">
            Go to sign-in
          </Link>
        </>
      )}
    </main>
  );
}
