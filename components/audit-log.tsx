"use client";
/**
 * The Audit page (admins): who did what and when in this organisation, newest first, filtered by
 * person, action and time (UTC). Read-only: the log cannot be edited from anywhere.
 */
import { Cell, PlainTable, Row } from "./plain-table";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import Link from "next/link";
import { targetInWords } from "@/lib/audit-words";
import type { RouterOutputs } from "@/lib/router-types";
import { useTRPC } from "./trpc-provider";

type Entry = RouterOutputs["audit"]["list"]["entries"][number];

const when = (d: Date | string) => `${new Date(d).toISOString().slice(0, 19).replace("T", " ")} UTC`;
const utc = (local: string) => (local ? new Date(`${local}:00Z`) : undefined);

function detailsInWords(e: Entry): string {
  return Object.entries(e.details)
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" · ");
}

export function AuditLog() {
  const trpc = useTRPC();
  const [actor, setActor] = useState("");
  const [action, setAction] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const input = { limit: 50, actor: actor || undefined, action: action || undefined, from: utc(from), to: utc(to), cursor };
  const q = useQuery({ ...trpc.audit.list.queryOptions(input), placeholderData: keepPreviousData });
  const refilter = (fn: () => void) => {
    fn();
    setCursors([]);
  };
  const field = "rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-900";

  return (
    <section className="space-y-4">
      <div>
        <h1 className="text-2xl font-semibold">Audit log</h1>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">Who did what and when in your organisation. Entries are never changed or removed, and never hold a password, key or token.</p>
      </div>

      <form className="flex flex-wrap items-end gap-3 text-sm" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span className="mb-1 block font-medium">Person</span>
          {q.data && !q.data.actorsComplete ? (
            // more people than a list can hold: type one (the first ones are suggested)
            <>
              <input value={actor} onChange={(e) => refilter(() => setActor(e.target.value))} list="audit-actors" placeholder="Everyone (type a person)" className={field} data-testid="audit-actor-input" />
              <datalist id="audit-actors">
                {q.data.actors.map((a) => (
                  <option key={a} value={a} />
                ))}
              </datalist>
            </>
          ) : (
            <select value={actor} onChange={(e) => refilter(() => setActor(e.target.value))} className={field}>
              <option value="">Everyone</option>
              {(q.data?.actors ?? []).map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          )}
        </label>
        <label>
          <span className="mb-1 block font-medium">Action</span>
          <select value={action} onChange={(e) => refilter(() => setAction(e.target.value))} className={field}>
            <option value="">All actions</option>
            {(q.data?.actions ?? []).map((a) => (
              <option key={a.action} value={a.action}>
                {a.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="mb-1 block font-medium">From (UTC)</span>
          <input type="datetime-local" value={from} onChange={(e) => refilter(() => setFrom(e.target.value))} className={field} />
        </label>
        <label>
          <span className="mb-1 block font-medium">To (UTC)</span>
          <input type="datetime-local" value={to} onChange={(e) => refilter(() => setTo(e.target.value))} className={field} />
        </label>
      </form>

      {q.isPending ? (
        <p className="text-slate-500">Loading the audit log…</p>
      ) : q.isError ? (
        <p className="text-red-700 dark:text-red-300">{q.error.message}</p>
      ) : q.data.entries.length === 0 ? (
        <p>No entries match.</p>
      ) : (
        <PlainTable columns={["When", "Who", "What", "On", "Details"]} testId="audit-table">
              {q.data.entries.map((e) => (
                <Row key={e.id} top>
                  <Cell className="whitespace-nowrap">{when(e.at)}</Cell>
                  <Cell>{e.actorLabel}</Cell>
                  <Cell>{e.label}</Cell>
                  <Cell className="break-all">
                    <Target target={e.target} />
                  </Cell>
                  <Cell className="break-all text-slate-600 dark:text-slate-400">{detailsInWords(e)}</Cell>
                </Row>
              ))}
        </PlainTable>
      )}

      <div className="flex gap-3 text-sm">
        {cursors.length ? (
          <button type="button" className="rounded-md border border-slate-300 px-2 py-1 dark:border-slate-700" onClick={() => setCursors([])}>
            Newest entries
          </button>
        ) : null}
        {q.data?.nextCursor ? (
          <button type="button" className="rounded-md border border-slate-300 px-2 py-1 dark:border-slate-700" onClick={() => setCursors((c) => [...c, q.data!.nextCursor!])}>
            Older entries
          </button>
        ) : null}
      </div>
    </section>
  );
}

function Target({ target }: { target: string }) {
  const t = targetInWords(target);
  return t.href ? (
    <Link href={t.href} className="text-indigo-600 underline dark:text-indigo-400">
      {t.text}
    </Link>
  ) : (
    <>{t.text}</>
  );
}
