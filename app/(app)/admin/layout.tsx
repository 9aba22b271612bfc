import { forbidden } from "next/navigation";
import type { ReactNode } from "react";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  if (!can(session?.user?.role, "manage_api_keys")) forbidden();
  return <>{children}</>;
}
