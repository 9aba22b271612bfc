import Link from "next/link";
import { signOut } from "@/server/auth/config";

export type NavItem = { href: string; label: string };

export function Nav({ items, email, role }: { items: NavItem[]; email: string; role: string }) {
  return (
    <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
        <span className="font-semibold">AAM Auto-Onboarding</span>
        <nav aria-label="Main" className="flex flex-wrap gap-4 text-sm">
          {items.map((i) => (
            <Link key={i.href} href={i.href} className="hover:text-indigo-600 dark:hover:text-indigo-400">
              {i.label}
            </Link>
          ))}
        </nav>
        <div className="ml-auto flex items-center gap-3 text-sm">
          <span className="text-slate-600 dark:text-slate-400">
            {email} · {role === "admin" ? "Admin" : "Executive (read-only)"}
          </span>
          <form
            action={async () => {
              "use server";
              await signOut({ redirectTo: "/login" });
            }}
          >
            <button type="submit" className="rounded-md border border-slate-300 px-2 py-1 hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
              Sign out
            </button>
          </form>
        </div>
      </div>
    </header>
  );
}
