import { forbidden } from "next/navigation";
import { AuditLog } from "@/components/audit-log";
import { getQueryClient, HydrateClient, trpc } from "@/lib/trpc-server";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export default async function AuditPage() {
  const session = await auth();
  // The layout checks too; a page never relies on a parent for its own data's protection.
  if (!session?.user || !can(session.user.role, "view_audit")) forbidden();
  await getQueryClient().prefetchQuery(trpc.audit.list.queryOptions({ limit: 50 }));
  return (
    <HydrateClient>
      <AuditLog />
    </HydrateClient>
  );
}
