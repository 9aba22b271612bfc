import { forbidden, notFound } from "next/navigation";
import { z } from "zod";
import { ConnectionDetail } from "@/components/connection-detail";
import { getQueryClient, HydrateClient, trpc } from "@/lib/trpc-server";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";

export default async function ConnectionPage({ params }: { params: Promise<{ id: string }> }) {
  const session = await auth();
  if (!can(session?.user?.role, "view_connections")) forbidden();
  const { id } = await params;
  if (!z.uuid().safeParse(id).success) notFound();
  await getQueryClient().prefetchQuery(trpc.connections.get.queryOptions({ id }));
  return (
    <HydrateClient>
      <ConnectionDetail id={id} canHeal={can(session?.user?.role, "heal")} />
    </HydrateClient>
  );
}
