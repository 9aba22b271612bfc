import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { Nav, type NavItem } from "@/components/nav";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export const dynamic = "force-dynamic";

export default async function AppLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  if (!session?.user) redirect("/login");
  const role = session.user.role;
  const items: NavItem[] = [{ href: "/", label: "Funnel" }];
  if (can(role, "view_connections")) items.push({ href: "/connections", label: "Connections" });
  if (can(role, "consent")) items.push({ href: "/consents", label: "Consents" });
  if (can(role, "manage_api_keys")) items.push({ href: "/admin/api-keys", label: "API keys" });
  return (
    <>
      <Nav items={items} email={session.user.email ?? ""} role={role} />
      <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
    </>
  );
}
