import { forbidden } from "next/navigation";
import type { ReactNode } from "react";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  // everything under /admin is for admins (API keys, settings, users, audit log); each page checks its own capability too
  const role = session?.user?.role;
  if (!(["manage_api_keys", "manage_settings", "manage_users", "view_audit"] as const).some((c) => can(role, c))) forbidden();
  return <>{children}</>;
}
