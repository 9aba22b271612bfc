"use client";
/**
 * The tenant's approved destinations: where connections may connect besides their connector's
 * own vendor hosts (self-hosted databases, custom domains, file folders). Add, edit, remove; the
 * server checks every value and answers in words.
 */
import { Cell, PlainTable, Row as TableRow } from "./plain-table";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { RouterOutputs } from "@/lib/router-types";
import { fieldIssuesOf, useFieldMarks, type Issue } from "./field-issues";
import { RemoveWithConfirm } from "./row-actions";
import { useTRPC } from "./trpc-provider";

type Destination = RouterOutputs["settings"]["get"]["destinations"][number];
type Draft = { kind: "host" | "folder"; pattern: string; ports: string; sourceTypes: string; note: string };

const EMPTY: Draft = { kind: "host", pattern: "", ports: "", sourceTypes: "", note: "" };
const input = "rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-900";
const button = "rounded-md border border-slate-300 px-2 py-1 text-sm hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800";
const when = (d: Date | string) => `${new Date(d).toISOString().slice(0, 16).replace("T", " ")} UTC`;
const splitList = (s: string) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

export const portsInWords = (ports: readonly number[]) => (ports.length ? ports.join(", ") : "any port");
export const typesInWords = (types: readonly string[]) => (types.length ? types.join(", ") : "any source type");

function DestinationFields({ draft, set, sourceTypes, kindFixed, issues = [] }: { draft: Draft; set: (d: Draft) => void; sourceTypes: readonly string[]; kindFixed?: boolean; issues?: Issue[] }) {
  const { mark, note } = useFieldMarks(issues);
  return (
    <>
      {kindFixed ? null : (
        <label className="text-sm">
          <span className="mb-1 block font-medium">Kind</span>
          <select value={draft.kind} onChange={(e) => set({ ...draft, kind: e.target.value as Draft["kind"] })} className={input}>
            <option value="host">Host or IP range</option>
            <option value="folder">Folder (filesource)</option>
          </select>
        </label>
      )}
      <div className="text-sm">
        <label>
          <span className="mb-1 block font-medium">{draft.kind === "host" ? "Host, *.domain, IP or CIDR" : "Absolute folder path"}</span>
          <input value={draft.pattern} onChange={(e) => set({ ...draft, pattern: e.target.value })} placeholder={draft.kind === "host" ? "db.corp.example" : "/srv/exports"} className={input} {...mark("pattern")} />
        </label>
        {note("pattern")}
      </div>
      {draft.kind === "host" ? (
        <div className="text-sm">
          <label>
            <span className="mb-1 block font-medium">Ports</span>
            <input value={draft.ports} onChange={(e) => set({ ...draft, ports: e.target.value })} placeholder="5432, 6432 (empty: any)" className={`${input} w-40`} {...mark("ports")} />
          </label>
          {note("ports")}
        </div>
      ) : null}
      <div className="text-sm">
        <label>
          <span className="mb-1 block font-medium">Source types</span>
          <input value={draft.sourceTypes} onChange={(e) => set({ ...draft, sourceTypes: e.target.value })} placeholder="postgres, mongo (empty: any)" list="aam-source-types" className={input} {...mark("sourceTypes")} />
        </label>
        <datalist id="aam-source-types">
          {sourceTypes.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        {note("sourceTypes")}
      </div>
      <div className="text-sm">
        <label>
          <span className="mb-1 block font-medium">Note</span>
          <input value={draft.note} onChange={(e) => set({ ...draft, note: e.target.value })} placeholder="why it is approved" className={input} {...mark("note")} />
        </label>
        {note("note")}
      </div>
    </>
  );
}

function DestinationRow({ d, sourceTypes, onChanged }: { d: Destination; sourceTypes: readonly string[]; onChanged: () => void }) {
  const trpc = useTRPC();
  const [editing, setEditing] = useState<Draft | null>(null);
  const update = useMutation(trpc.settings.updateDestination.mutationOptions({ onSuccess: () => (setEditing(null), onChanged()) }));
  const remove = useMutation(trpc.settings.removeDestination.mutationOptions({ onSuccess: onChanged }));

  if (editing) {
    return (
      <tr className="border-b border-slate-100 dark:border-slate-800">
        <td colSpan={6} className="py-2">
          <form
            aria-label={`Edit ${d.pattern}`}
            className="flex flex-wrap items-end gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              update.mutate({ id: d.id, pattern: editing.pattern, ports: editing.ports, sourceTypes: splitList(editing.sourceTypes), note: editing.note });
            }}
          >
            <DestinationFields draft={editing} set={setEditing} sourceTypes={sourceTypes} kindFixed issues={fieldIssuesOf(update.error)} />
            <button type="submit" disabled={update.isPending} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
              {update.isPending ? "Saving…" : "Save"}
            </button>
            <button type="button" className={button} onClick={() => setEditing(null)}>
              Cancel
            </button>
            {update.isError ? <p className="w-full text-sm text-red-700 dark:text-red-300">{update.error.message}</p> : null}
          </form>
        </td>
      </tr>
    );
  }
  return (
    <TableRow top>
      <Cell>{d.kind === "host" ? "Host" : "Folder"}</Cell>
      <Cell className="font-mono text-xs">{d.pattern}</Cell>
      <Cell>{d.kind === "host" ? portsInWords(d.ports) : "—"}</Cell>
      <Cell>{typesInWords(d.sourceTypes)}</Cell>
      <Cell className="text-xs text-slate-600 dark:text-slate-400">
        {d.note ? <span className="block">{d.note}</span> : null}
        by {d.createdBy} at {when(d.createdAt)}
      </Cell>
      <Cell className="whitespace-nowrap">
        <button type="button" className={button} onClick={() => setEditing({ kind: d.kind, pattern: d.pattern, ports: d.ports.join(", "), sourceTypes: d.sourceTypes.join(", "), note: d.note })}>
          Edit <span className="sr-only">{d.pattern}</span>
        </button>{" "}
        <RemoveWithConfirm what={d.pattern} pending={remove.isPending} error={remove.isError ? remove.error.message : null} onRemove={() => remove.mutate({ id: d.id })} />
      </Cell>
    </TableRow>
  );
}

export function SettingsDestinations({ destinations, sourceTypes }: { destinations: Destination[]; sourceTypes: readonly string[] }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.settings.get.queryKey() });
  const add = useMutation(
    trpc.settings.addDestination.mutationOptions({
      onSuccess: () => {
        setDraft(EMPTY);
        refresh();
      },
    }),
  );

  return (
    <section aria-labelledby="destinations-heading" className="space-y-3">
      <div>
        <h2 id="destinations-heading" className="text-lg font-semibold">
          Approved destinations
        </h2>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
          An intent from AOD only proposes a source. Connections reach their connector&apos;s own vendor hosts, and besides those only what is listed here: hosts, *.domains, IP addresses or CIDR
          ranges with their ports, and folders for filesource. Anything else ends “Network blocked: destination not approved”. The app&apos;s own data folder (DATA_DIR) can never be approved, and
          link-local or cloud metadata addresses are never reachable.
        </p>
      </div>

      {destinations.length === 0 ? (
        <p className="text-sm">No approved destinations yet: connections can reach only their vendors&apos; own hosts (and the sandboxes, when they run).</p>
      ) : (
        <PlainTable columns={["Kind", "Destination", "Ports", "Source types", "Approved", ""]} label="Approved destinations">
              {destinations.map((d) => (
                <DestinationRow key={d.id} d={d} sourceTypes={sourceTypes} onChanged={refresh} />
              ))}
        </PlainTable>
      )}

      <form
        aria-label="Add a destination"
        className="flex flex-wrap items-end gap-2 rounded-xl border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate({ kind: draft.kind, pattern: draft.pattern, ports: draft.ports, sourceTypes: splitList(draft.sourceTypes), note: draft.note });
        }}
      >
        <DestinationFields draft={draft} set={setDraft} sourceTypes={sourceTypes} issues={fieldIssuesOf(add.error)} />
        <button type="submit" disabled={add.isPending} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
          {add.isPending ? "Adding…" : "Add destination"}
        </button>
        {add.isError ? <p className="w-full text-sm text-red-700 dark:text-red-300">{add.error.message}</p> : null}
        {add.data && add.data.resumed > 0 ? <p className="w-full text-sm">Onboarding resumed for {add.data.resumed === 1 ? "1 blocked connection" : `${add.data.resumed} blocked connections`}.</p> : null}
      </form>
    </section>
  );
}
