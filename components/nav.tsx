import Link from "next/link";
import { signOutEverywhere } from "@/app/login/actions";
import { signOut } from "@/server/auth/config";
import { can, type Capability } from "@/server/auth/roles";

export type NavItem = { href: string; label: string };

/** Links every page's layout shows by role, after the layout's own items. */
const ROLE_ITEMS: (NavItem & { capability: Capability })[] = [
  { href: "/admin/settings", label: "Settings", capability: "manage_settings" },
  { href: "/admin/users", label: "Users", capability: "manage_users" },
  { href: "/admin/audit", label: "Audit log", capability: "view_audit" },
];

export function Nav({ items: base, email, role }: { items: NavItem[]; email: string; role: string }) {
  const items = [...base, ...ROLE_ITEMS.filter((i) => can(role === "admin" || role === "exec" ? role : undefined, i.capability) && !base.some((b) => b.href === i.href))];
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
          <form action={signOutEverywhere}>
            <button type="submit" title="End your sessions on every device and browser" className="rounded-md px-2 py-1 text-slate-600 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-800">
              Sign out everywhere
            </button>
          </form>
        </div>
      </div>
    </header>
  );
}
