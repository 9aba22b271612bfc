import { forbidden } from "next/navigation";
import type { ReactNode } from "react";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  // everything under /admin is for admins (API keys, settings); each page checks its own capability too
  if (!can(session?.user?.role, "manage_api_keys") && !can(session?.user?.role, "manage_settings")) forbidden();
  return <>{children}</>;
}
