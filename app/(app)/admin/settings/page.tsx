import { forbidden } from "next/navigation";
import { SettingsManager } from "@/components/settings-manager";
import { getQueryClient, HydrateClient, trpc } from "@/lib/trpc-server";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export default async function SettingsPage() {
  const session = await auth();
  // The layout checks too; a page never relies on a parent for its own data's protection.
  if (!session?.user || !can(session.user.role, "manage_settings")) forbidden();
  await getQueryClient().prefetchQuery(trpc.settings.get.queryOptions());
  return (
    <HydrateClient>
      <SettingsManager />
    </HydrateClient>
  );
}
