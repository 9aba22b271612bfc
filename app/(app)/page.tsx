import { SystemStatus } from "@/components/system-status";
import { auth } from "@/server/auth/config";

export default async function HomePage() {
  const session = await auth();
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Onboarding funnel</h1>
      <p className="text-slate-600 dark:text-slate-400">
        Signed in as {session?.user.role === "admin" ? "an admin" : "an executive (read-only)"}.
      </p>
      <SystemStatus />
    </section>
  );
}
