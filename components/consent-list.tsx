"use client";
/** The connections waiting for an admin's consent, each with a link to its consent page. */
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { ConsentNotice } from "./consent-notice";
import { useTRPC } from "./trpc-provider";

export function ConsentList() {
  const trpc = useTRPC();
  const q = useQuery(trpc.consents.pending.queryOptions(undefined, { refetchInterval: 10_000 }));
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Pending consents</h1>
      <ConsentNotice />
      <p className="text-sm text-slate-600 dark:text-slate-400">
        These connections use a <span className="font-mono">consent:</span> credential: an admin must approve read-only access at the provider before onboarding can go on.
      </p>
      {q.isPending ? (
        <p className="text-slate-500">Loading…</p>
      ) : q.isError ? (
        <p className="text-red-700 dark:text-red-300">{q.error.message}</p>
      ) : q.data.connections.length === 0 ? (
        <p data-testid="no-pending-consents" className="text-slate-600 dark:text-slate-400">
          No connection is waiting for consent.
        </p>
      ) : (
        <>
          <ProviderSummary total={Math.max(q.data.total, q.data.connections.length)} listed={q.data.connections.length} providers={q.data.providers} providersBeyond={q.data.providersBeyond} />
          <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <table className="w-full text-left text-sm" data-testid="pending-consents">
              <thead className="text-xs text-slate-500">
                <tr>
                  <th className="px-3 py-2 font-medium">Provider</th>
                  <th className="px-3 py-2 font-medium">Resources</th>
                  <th className="px-3 py-2 font-medium">Namespace</th>
                  <th className="px-3 py-2 font-medium">Why it waits</th>
                  <th className="px-3 py-2">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {q.data.connections.map((c) => (
                  <tr key={c.id} className="border-t border-slate-100 dark:border-slate-800">
                    <td className="px-3 py-2">{c.providerName}</td>
                    <td className="px-3 py-2 font-mono text-xs break-all">{c.resourceIds.join(", ")}</td>
                    <td className="px-3 py-2">{c.namespace}</td>
                    <td className="px-3 py-2 text-slate-600 dark:text-slate-400">{c.reason}</td>
                    <td className="px-3 py-2 text-right">
                      <Link href={`/connections/${c.id}/consent`} className="whitespace-nowrap text-indigo-600 underline dark:text-indigo-400">
                        Give consent
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

const count = (n: number, one: string, many: string) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** One consent per provider resumes its connections: how many wait on each, and how many the table below lists. */
function ProviderSummary(props: { total: number; listed: number; providers: { provider: string; displayName: string; waiting: number; connectionId: string }[]; providersBeyond: number }) {
  return (
    <div className="space-y-2" data-testid="consent-totals">
      <p className="text-sm">
        {count(props.total, "connection waits", "connections wait")} on {count(props.providers.length + props.providersBeyond, "consent", "consents")}, one per provider.
        {props.total > props.listed ? ` The table lists the ${props.listed.toLocaleString("en-US")} most recently updated.` : ""}
      </p>
      <ul className="flex flex-wrap gap-2 text-sm" data-testid="consent-providers">
        {props.providers.map((p) => (
          <li key={p.provider} className="rounded-lg border border-slate-200 px-3 py-1 dark:border-slate-800">
            <span className="font-medium">{p.displayName}</span>: {count(p.waiting, "connection", "connections")} ·{" "}
            <Link href={`/connections/${p.connectionId}/consent`} className="text-indigo-600 underline dark:text-indigo-400" aria-label={`Give consent for ${p.displayName}`}>
              give consent
            </Link>
          </li>
        ))}
        {props.providersBeyond > 0 ? <li className="px-3 py-1 text-slate-600 dark:text-slate-400">and {count(props.providersBeyond, "more provider", "more providers")} with fewer waiting</li> : null}
      </ul>
    </div>
  );
}
