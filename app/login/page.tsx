import { redirect } from "next/navigation";
import { auth } from "@/server/auth/config";
import { LoginForm } from "./login-form";

export const dynamic = "force-dynamic";

export default async function LoginPage() {
  if ((await auth())?.user) redirect("/");
  return (
    <main className="mx-auto flex min-h-screen max-w-sm flex-col justify-center px-4">
      <h1 className="mb-1 text-2xl font-semibold">AAM Auto-Onboarding</h1>
      <p className="mb-6 text-sm text-slate-600 dark:text-slate-400">Sign in to see the onboarding funnel.</p>
      <LoginForm />
    </main>
  );
}
