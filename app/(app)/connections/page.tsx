import { forbidden } from "next/navigation";
import { ConnectionsTable } from "@/components/connections-table";
import { getQueryClient, HydrateClient, trpc } from "@/lib/trpc-server";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";
import { NAMESPACE_RE } from "@/server/onboarding/schemas";

export default async function ConnectionsPage({ searchParams }: { searchParams: Promise<{ namespace?: string }> }) {
  const session = await auth();
  if (!can(session?.user?.role, "view_connections")) forbidden();
  const requested = (await searchParams).namespace;
  const namespace = requested && NAMESPACE_RE.test(requested) ? requested : "autonomy";
  const namespaces = (await getQueryClient().fetchQuery(trpc.connections.namespaces.queryOptions())).map((n) => n.namespace);
  return (
    <HydrateClient>
      <ConnectionsTable namespace={namespace} namespaces={namespaces.includes(namespace) ? namespaces : [...namespaces, namespace]} canHeal={can(session?.user?.role, "heal")} />
    </HydrateClient>
  );
}
