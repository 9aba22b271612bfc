"use client";
/**
 * Settings: where each of the organisation's own secrets may be sent (server/onboarding/secret-binding.ts).
 * A secret is bound where it was first used, or where an admin allowed it from a connection page;
 * removing a binding sends the secret nowhere new: its next use elsewhere is refused while another
 * binding stands, and binds anew when none does.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { RouterOutputs } from "@/lib/router-types";
import { RemoveWithConfirm, SettingCheckbox } from "./row-actions";
import { Cell, PlainTable, Row } from "./plain-table";
import { useTRPC } from "./trpc-provider";

type Binding = RouterOutputs["settings"]["get"]["secretBindings"]["rows"][number];

const when = (d: Date | string) => `${new Date(d).toISOString().slice(0, 16).replace("T", " ")} UTC`;

function BindingRow({ b, onChanged }: { b: Binding; onChanged: () => void }) {
  const trpc = useTRPC();
  const remove = useMutation(trpc.settings.removeSecretBinding.mutationOptions({ onSuccess: onChanged }));
  return (
    <Row top>
      <Cell className="font-mono text-xs">{b.locator}</Cell>
      <Cell>{b.sourceType}</Cell>
      <Cell className="font-mono text-xs">{b.destination || "where the secret itself says (no host in the config)"}</Cell>
      <Cell className="text-xs text-slate-600 dark:text-slate-400">
        {b.origin === "admin" ? `allowed by ${b.createdBy}` : "first used"}
        {b.connectionId ? (
          <>
            {" by "}
            <Link className="underline" href={`/connections/${b.connectionId}`}>
              connection {b.connectionId.slice(0, 8)}…
            </Link>
          </>
        ) : null}{" "}
        at {when(b.createdAt)}
      </Cell>
      <Cell className="whitespace-nowrap">
        <RemoveWithConfirm what={`${b.locator} at ${b.destination}`} pending={remove.isPending} error={remove.isError ? remove.error.message : null} onRemove={() => remove.mutate({ id: b.id })} />
      </Cell>
    </Row>
  );
}

export function SettingsSecretBindings({ bindings }: { bindings: { rows: Binding[]; total: number; approval: boolean } }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const onChanged = () => void qc.invalidateQueries({ queryKey: trpc.settings.get.queryKey() });
  // the box shows the admin's choice at once, as the masking box does
  const [choice, setChoice] = useState<boolean | null>(null);
  const approval = useMutation(
    trpc.settings.setSecretBindingApproval.mutationOptions({
      onSettled: async () => {
        await qc.invalidateQueries({ queryKey: trpc.settings.get.queryKey() });
        setChoice(null);
      },
    }),
  );
  return (
    <section aria-labelledby="bindings-heading" className="space-y-3">
      <div>
        <h2 id="bindings-heading" className="text-lg font-semibold">
          Where secrets may be sent
        </h2>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
          Each of this organisation&apos;s own secrets (env:, vault: and sp: locators) goes only to the connector and destination it was first used for, or that an admin allowed from a
          connection page. An intent naming the same secret for another instance or another connector is blocked before the secret is read.
        </p>
      </div>
      <SettingCheckbox
        label="An admin approves each secret's first destination"
        checked={choice ?? bindings.approval}
        pending={approval.isPending}
        onChange={(on) => {
          setChoice(on);
          approval.mutate({ on });
        }}
      >
        Off: a secret is bound where it first works. On: a secret bound nowhere yet is not read, and its connection waits for an admin to allow it on the connection&apos;s page — so whoever
        names a secret first cannot decide where it goes.
      </SettingCheckbox>
      {approval.isError ? <p className="text-sm text-red-700 dark:text-red-300">{approval.error.message}</p> : null}
      {bindings.rows.length === 0 ? (
        <p className="text-sm">No secret has been used yet.</p>
      ) : (
        <PlainTable columns={["Secret", "Connector", "Destination", "Bound", ""]} label="Where secrets may be sent" testId="secret-bindings">
          {bindings.rows.map((b) => (
            <BindingRow key={b.id} b={b} onChanged={onChanged} />
          ))}
        </PlainTable>
      )}
      {bindings.total > bindings.rows.length ? <p className="text-sm text-slate-600 dark:text-slate-400">{`The first ${bindings.rows.length.toLocaleString("en-US")} of ${bindings.total.toLocaleString("en-US")} bindings.`}</p> : null}
    </section>
  );
}
