"use client";
/**
 * Connections of one namespace: server-side filters, sort and pages (keyset: fast at any page of a million rows).
 * The demo namespace is shown read-only.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import type { RouterInputs } from "@/lib/router-types";
import { searchesInsideText, SHORT_OWNER_MESSAGE, SHORT_SEARCH_HINT } from "@/server/onboarding/search-text";
import { StatusBadge, statusInWords } from "./status-badge";
import { useTRPC } from "./trpc-provider";

type ListInput = RouterInputs["connections"]["list"];
type Sort = NonNullable<ListInput["sort"]>;

const STATUSES = ["ACTIVE", "PENDING", "AWAITING_CREDENTIALS", "NETWORK_BLOCKED", "HEALING", "ERROR", "UNSUPPORTED", "NOT_SANCTIONED"] as const;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

const field = "rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-900";

export function ConnectionsTable({ namespace, namespaces, canHeal }: { namespace: string; namespaces: string[]; canHeal: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const healAll = useMutation(trpc.connections.healAll.mutationOptions({ onSettled: () => qc.invalidateQueries({ queryKey: trpc.connections.list.queryKey() }) }));
  const [ns, setNs] = useState(namespace);
  const [status, setStatus] = useState<string>("");
  const [sourceType, setSourceType] = useState("");
  const [risk, setRisk] = useState("");
  const [ownerText, setOwnerText] = useState("");
  const [text, setText] = useState("");
  const [sort, setSort] = useState<Sort>("updatedAt");
  const [dir, setDir] = useState<"asc" | "desc">("desc");
  const owner = useDebounced(ownerText, 250);
  const q = useDebounced(text, 250);
  // an owner is searched inside addresses: only from 3 letters or digits in a row (search-text.ts); until then, said so and not sent
  const ownerShort = owner.trim() !== "" && !searchesInsideText(owner);
  const textShort = q.trim() !== "" && !searchesInsideText(q);
  // the page, and where each page visited starts (keyset paging: a page is a seek from where the
  // one before ended, as fast at page 40,000 as at page 2; the first starts at the top) — for
  // these filters and this sort only: any change starts again from page 1 in the same render,
  // so a cursor is never sent with a sort it was not made for
  const listKey = JSON.stringify([ns, status, sourceType, risk, owner, q, sort, dir]);
  const [paging, setPaging] = useState<{ key: string; page: number; cursors: (string | undefined)[] }>({ key: listKey, page: 1, cursors: [undefined] });
  const { page, cursors } = paging.key === listKey ? paging : { page: 1, cursors: [undefined] };

  const input: ListInput = {
    namespace: ns,
    status: status ? [status as (typeof STATUSES)[number]] : undefined,
    sourceType: sourceType || undefined,
    risk: (risk || undefined) as ListInput["risk"],
    owner: owner && !ownerShort ? owner : undefined,
    q: q || undefined,
    sort,
    dir,
    page,
    pageSize: 25,
    after: cursors[page - 1],
  };
  const list = useQuery(trpc.connections.list.queryOptions(input, { placeholderData: keepPreviousData, refetchInterval: 5_000 }));
  const types = useQuery(trpc.connections.sourceTypes.queryOptions({ namespace: ns }));
  const pages = list.data ? Math.max(1, Math.ceil(list.data.total / 25)) : 1;
  // a search filter counts its matches only up to a cap: past it, "more than" and open-ended pages
  const capped = list.data?.totalCapped ?? false;
  const lastPage = !list.data?.nextCursor || (capped ? list.data.rows.length < 25 : page >= pages);
  const readOnly = ns === "demo";

  const header = (key: Sort, label: string) => (
    <th scope="col" className="py-2 pr-3" aria-sort={sort === key ? (dir === "asc" ? "ascending" : "descending") : "none"}>
      <button
        type="button"
        className="font-medium hover:text-indigo-600 dark:hover:text-indigo-400"
        onClick={() => {
          if (sort === key) setDir(dir === "asc" ? "desc" : "asc");
          else {
            setSort(key);
            setDir("asc");
          }
        }}
      >
        {label} {sort === key ? (dir === "asc" ? "▲" : "▼") : ""}
      </button>
    </th>
  );

  return (
    <section className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold">Connections</h1>
          {readOnly ? <p className="text-sm text-amber-700 dark:text-amber-300">The demo namespace holds pre-existing connections and is read-only.</p> : null}
        </div>
        <div className="flex flex-wrap items-end gap-3">
          {canHeal && !readOnly ? (
            <button
              type="button"
              disabled={healAll.isPending}
              onClick={() => healAll.mutate({ namespace: ns })}
              className="rounded-md bg-violet-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-violet-500 disabled:opacity-60"
            >
              {healAll.isPending ? `Queueing…` : `Heal all healing connections in “${ns}”`}
            </button>
          ) : null}
          <label className="text-sm">
            <span className="mr-2 font-medium">Namespace</span>
            <select className={field} value={ns} onChange={(e) => setNs(e.target.value)}>
              {namespaces.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </label>
        </div>
      </div>
      {healAll.data ? <HealProgress namespace={healAll.data.namespace} queued={healAll.data.queued} /> : null}
      {healAll.isError ? <p className="text-sm text-red-700 dark:text-red-300">{healAll.error.message}</p> : null}

      <form className="flex flex-wrap gap-2" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="sr-only" htmlFor="f-q">Search</label>
        <input id="f-q" aria-describedby={textShort ? "f-search-hint" : undefined} className={field} placeholder="Search type, reason or resource id" value={text} onChange={(e) => setText(e.target.value)} />
        <label className="sr-only" htmlFor="f-status">Status</label>
        <select id="f-status" aria-label="Status" className={field} value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusInWords(s)}
            </option>
          ))}
        </select>
        <select aria-label="Source type" className={field} value={sourceType} onChange={(e) => setSourceType(e.target.value)}>
          <option value="">Any source type</option>
          {(types.data ?? []).map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <select aria-label="Risk" className={field} value={risk} onChange={(e) => setRisk(e.target.value)}>
          <option value="">Any risk</option>
          <option value="low">Low risk</option>
          <option value="med">Medium risk</option>
          <option value="high">High risk</option>
        </select>
        <input aria-label="Owner" aria-describedby={ownerShort ? "f-search-hint" : undefined} className={field} placeholder="Owner" value={ownerText} onChange={(e) => setOwnerText(e.target.value)} />
      </form>
      {ownerShort || textShort ? (
        <p id="f-search-hint" role="status" className="text-sm text-slate-600 dark:text-slate-400">
          {ownerShort ? SHORT_OWNER_MESSAGE : null} {textShort ? SHORT_SEARCH_HINT : null}
        </p>
      ) : null}

      {list.isPending ? (
        <p className="text-slate-500">Loading connections…</p>
      ) : list.isError ? (
        <p className="text-red-700 dark:text-red-300">Could not load connections: {list.error.message}</p>
      ) : list.data.total === 0 ? (
        <p className="rounded-xl border border-dashed border-slate-300 p-6 text-center dark:border-slate-700">No connection matches these filters.</p>
      ) : (
        <>
          <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <table className="w-full text-left text-sm">
              <thead className="border-b border-slate-200 dark:border-slate-800">
                <tr className="[&>th]:px-3">
                  {header("sourceType", "Source")}
                  <th scope="col" className="py-2 pr-3">Resources</th>
                  {header("status", "Status")}
                  {header("riskLevel", "Risk")}
                  <th scope="col" className="py-2 pr-3">Owner</th>
                  {header("latencyMs", "First sync")}
                  {header("updatedAt", "Updated")}
                </tr>
              </thead>
              <tbody data-testid="connection-rows">
                {list.data.rows.map((c) => (
                  <tr key={c.id} className="border-b border-slate-100 last:border-0 dark:border-slate-800 [&>td]:px-3">
                    <td className="py-2">
                      <Link href={`/connections/${c.id}`} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
                        {c.sourceType}
                      </Link>
                    </td>
                    <td className="max-w-[16rem] truncate py-2 font-mono text-xs" title={c.resourceIds.join(", ")}>
                      {c.resourceIds.join(", ")}
                    </td>
                    <td className="py-2">
                      <StatusBadge status={c.status} />
                    </td>
                    <td className="py-2">{c.riskLevel === "med" ? "medium" : c.riskLevel}</td>
                    <td className="py-2">{c.owner ?? "—"}</td>
                    <td className="py-2 tabular-nums">{c.firstSyncRows === null ? "—" : `${c.firstSyncRows} rows · ${Math.round(c.latencyMs ?? 0)} ms`}</td>
                    <td className="py-2 tabular-nums">{new Date(c.updatedAt).toISOString().slice(0, 16).replace("T", " ")} UTC</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="flex items-center justify-between text-sm" aria-label="Pages">
            <span data-testid="total">
              {capped
                ? `More than ${list.data.total.toLocaleString("en")} connections match · page ${page.toLocaleString("en")}`
                : `${list.data.total.toLocaleString("en")} connection${list.data.total === 1 ? "" : "s"} · page ${page} of ${pages.toLocaleString("en")}`}
            </span>
            <span className="flex gap-2">
              <button type="button" className={field} disabled={page <= 1} onClick={() => setPaging({ key: listKey, page: page - 1, cursors })}>
                Previous
              </button>
              <button
                type="button"
                className={field}
                disabled={lastPage}
                onClick={() => setPaging({ key: listKey, page: page + 1, cursors: [...cursors.slice(0, page), list.data?.nextCursor ?? undefined] })}
              >
                Next
              </button>
            </span>
          </nav>
        </>
      )}
    </section>
  );
}

const n = (x: number) => x.toLocaleString("en-US");

/**
 * After "Heal all": how many connections of the namespace are still onboarding and how many are
 * active, live from the funnel's exact counts (every 3 s) — the heal runs on the durable queue,
 * so it goes on (and this line with it) after a reload or on another page.
 */
function HealProgress({ namespace, queued }: { namespace: string; queued: number }) {
  const trpc = useTRPC();
  const f = useQuery(trpc.funnel.get.queryOptions({ namespace }, { refetchInterval: 3_000, enabled: queued > 0 }));
  if (queued === 0) return <p role="status" className="text-sm">{`Nothing to heal in “${namespace}”.`}</p>;
  const onboarding = f.data?.pending;
  return (
    <p role="status" className="text-sm" data-testid="heal-progress">
      {`Healing ${n(queued)} connection${queued === 1 ? "" : "s"} in “${namespace}”: each shows “Onboarding…” until it finishes, then Active or the reason it is still not healthy.`}
      {onboarding === undefined
        ? null
        : onboarding > 0
          ? ` Now ${n(onboarding)} of the namespace’s connections are onboarding, ${n(f.data!.active)} active.`
          : ` None of the namespace’s connections is onboarding any more: ${n(f.data!.active)} active, ${n(f.data!.healing)} still healing, ${n(f.data!.error)} in error.`}
    </p>
  );
}
