import { redirect } from "next/navigation";
import { signInErrorSentence } from "@/server/auth/auth-errors";
import { auth, ssoName } from "@/server/auth/config";
import { loginWithSso } from "./actions";
import { LoginForm } from "./login-form";

export const dynamic = "force-dynamic";

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ error?: string; signed_out?: string }> }) {
  if ((await auth())?.user) redirect("/");
  const params = await searchParams;
  const problem = signInErrorSentence(typeof params.error === "string" ? params.error : undefined);
  return (
    <main className="mx-auto flex min-h-screen max-w-sm flex-col justify-center px-4">
      <h1 className="mb-1 text-2xl font-semibold">AAM Auto-Onboarding</h1>
      <p className="mb-6 text-sm text-slate-600 dark:text-slate-400">Sign in to see the onboarding funnel.</p>
      {params.signed_out === "everywhere" ? (
        <p role="status" className="mb-4 rounded-md bg-slate-100 px-3 py-2 text-sm dark:bg-slate-800">
          You are signed out on every device.
        </p>
      ) : null}
      {problem ? (
        <p role="alert" className="mb-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
          {problem}
        </p>
      ) : null}
      <LoginForm />
      {ssoName() ? (
        <form action={loginWithSso} className="mt-4">
          <button type="submit" className="w-full rounded-md border border-slate-300 px-3 py-2 font-medium hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
            Sign in with {ssoName()}
          </button>
        </form>
      ) : null}
    </main>
  );
}
