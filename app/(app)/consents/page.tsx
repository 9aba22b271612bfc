/** Pending admin consents: connections waiting for an admin to approve read-only access at their provider. */
import { forbidden } from "next/navigation";
import { ConsentList } from "@/components/consent-list";
import { getQueryClient, HydrateClient, trpc } from "@/lib/trpc-server";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export default async function ConsentsPage() {
  const session = await auth();
  if (!can(session?.user?.role, "consent")) forbidden();
  await getQueryClient().prefetchQuery(trpc.consents.pending.queryOptions());
  return (
    <HydrateClient>
      <ConsentList />
    </HydrateClient>
  );
}
