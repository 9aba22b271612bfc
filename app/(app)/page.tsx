import { FunnelDashboard } from "@/components/funnel-dashboard";
import { SystemStatus } from "@/components/system-status";
import { getQueryClient, HydrateClient, trpc } from "@/lib/trpc-server";
import { NAMESPACE_RE } from "@/server/onboarding/schemas";

export default async function HomePage({ searchParams }: { searchParams: Promise<{ namespace?: string }> }) {
  const requested = (await searchParams).namespace;
  const namespace = requested && NAMESPACE_RE.test(requested) ? requested : "autonomy";
  const qc = getQueryClient();
  const [namespaces] = await Promise.all([qc.fetchQuery(trpc.connections.namespaces.queryOptions()), qc.prefetchQuery(trpc.funnel.get.queryOptions({ namespace }))]);
  const names = namespaces.map((n) => n.namespace);
  if (!names.includes(namespace)) names.push(namespace);
  return (
    <HydrateClient>
      <FunnelDashboard namespace={namespace} namespaces={names} />
      <div className="mt-8 border-t border-slate-200 pt-4 dark:border-slate-800">
        <SystemStatus />
      </div>
    </HydrateClient>
  );
}
