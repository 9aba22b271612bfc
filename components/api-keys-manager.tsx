"use client";
/** Admins manage AOD's API keys: create (the key is shown once), list (prefix and last use), revoke. */
import { Cell, PlainTable, Row } from "./plain-table";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { fieldIssuesOf, useFieldMarks } from "./field-issues";
import { useTRPC } from "./trpc-provider";

const when = (d: Date | string | null) => (d ? `${new Date(d).toISOString().slice(0, 16).replace("T", " ")} UTC` : "Never");

export function ApiKeysManager() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const keys = useQuery(trpc.apiKeys.list.queryOptions());
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.apiKeys.list.queryKey() });
  const create = useMutation(
    trpc.apiKeys.create.mutationOptions({
      onSuccess: (r) => {
        setCreated({ name: r.name, key: r.key });
        setName("");
        void refresh();
      },
    }),
  );
  const { mark, note } = useFieldMarks(create.error);
  // refreshed either way: a key another admin revoked meanwhile shows as revoked, with the refusal in words
  const revoke = useMutation(trpc.apiKeys.revoke.mutationOptions({ onSettled: () => void refresh() }));

  return (
    <section className="space-y-4">
      <div>
        <h1 className="text-2xl font-semibold">API keys for AOD</h1>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">Keys are shown once when created; only their prefix is kept readable.</p>
      </div>

      <form
        className="flex flex-wrap items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ name });
        }}
      >
        <div className="text-sm">
          <label>
            <span className="mb-1 block font-medium">New key name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="AOD production" className="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-900" {...mark("name")} />
          </label>
          {note("name")}
        </div>
        <button type="submit" disabled={create.isPending} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
          {create.isPending ? "Creating…" : "Create key"}
        </button>
        {create.isError && !fieldIssuesOf(create.error).length ? <span className="text-sm text-red-700 dark:text-red-300">{create.error.message}</span> : null}
      </form>

      {created ? (
        <div role="status" className="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950">
          <p className="font-medium">Key “{created.name}” created. Copy it now: it will not be shown again.</p>
          <code data-testid="new-key" className="mt-1 block break-all font-mono">{created.key}</code>
        </div>
      ) : null}

      {keys.isPending ? (
        <p className="text-slate-500">Loading keys…</p>
      ) : keys.isError ? (
        <p className="text-red-700 dark:text-red-300">{keys.error.message}</p>
      ) : keys.data.length === 0 ? (
        <p>No keys yet.</p>
      ) : (
        <>
        {revoke.isError ? (
          <p role="alert" className="text-sm text-red-700 dark:text-red-300">
            {revoke.error.message}
          </p>
        ) : null}
        <PlainTable columns={["Name", "Key", "Created", "Last used", "State", ""]}>
              {keys.data.map((k) => (
                <Row key={k.id}>
                  <Cell>{k.name}</Cell>
                  <Cell className="font-mono">aam_{k.prefix}_…</Cell>
                  <Cell>{when(k.createdAt)}</Cell>
                  <Cell>{when(k.lastUsedAt)}</Cell>
                  <Cell>{k.revokedAt ? "Revoked" : "Active"}</Cell>
                  <Cell>
                    {k.revokedAt ? null : (
                      <button
                        type="button"
                        disabled={revoke.isPending}
                        className="text-red-700 underline hover:no-underline disabled:opacity-60 dark:text-red-300"
                        onClick={() => {
                          if (window.confirm(`Revoke “${k.name}”? AOD calls with this key will be refused at once.`)) revoke.mutate({ id: k.id });
                        }}
                      >
                        Revoke<span className="sr-only"> {k.name}</span>
                      </button>
                    )}
                  </Cell>
                </Row>
              ))}
        </PlainTable>
        </>
      )}
    </section>
  );
}
