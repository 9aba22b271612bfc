import { forbidden } from "next/navigation";
import { UsersManager } from "@/components/users-manager";
import { getQueryClient, HydrateClient, trpc } from "@/lib/trpc-server";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export default async function UsersPage() {
  const session = await auth();
  // The layout checks too; a page never relies on a parent for its own data's protection.
  if (!session?.user || !can(session.user.role, "manage_users")) forbidden();
  await getQueryClient().prefetchQuery(trpc.users.list.queryOptions());
  return (
    <HydrateClient>
      <UsersManager />
    </HydrateClient>
  );
}
