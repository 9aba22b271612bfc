import { forbidden } from "next/navigation";
import { ApiKeysManager } from "@/components/api-keys-manager";
import { getQueryClient, HydrateClient, trpc } from "@/lib/trpc-server";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export default async function ApiKeysPage() {
  const session = await auth();
  // The layout checks too; a page never relies on a parent for its own data's protection.
  if (!session?.user || !can(session.user.role, "manage_api_keys")) forbidden();
  await getQueryClient().prefetchQuery(trpc.apiKeys.list.queryOptions());
  return (
    <HydrateClient>
      <ApiKeysManager />
    </HydrateClient>
  );
}
