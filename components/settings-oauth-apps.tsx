"use client";
/**
 * Settings → OAuth apps: the organisation's own OAuth clients per vendor (and, for vendors that
 * register a client per customer instance, per instance host), used for consent and service
 * principals before the install's OAUTH_* / SP_* defaults. The secret is write-only: it is sent
 * once, kept encrypted, and never shown again ("kept" is all the page knows).
 */
import { Cell, PlainTable, Row } from "./plain-table";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useFieldMarks } from "./field-issues";
import { useTRPC } from "./trpc-provider";

type Draft = { provider: string; instanceHost: string; principal: string; clientId: string; clientSecret: string; assertionKeyId: string; authorizeUrl: string; tokenUrl: string };
const EMPTY: Draft = { provider: "", instanceHost: "", principal: "", clientId: "", clientSecret: "", assertionKeyId: "", authorizeUrl: "", tokenUrl: "" };
const input = "rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-900";
const button = "rounded-md border border-slate-300 px-2 py-1 text-sm hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800";

export function SettingsOAuthApps() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.settings.oauthApps.queryOptions());
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [editing, setEditing] = useState<string | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.settings.oauthApps.queryKey() });
  const done = () => (setDraft(EMPTY), setEditing(null), refresh());
  const add = useMutation(trpc.settings.addOAuthApp.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.settings.updateOAuthApp.mutationOptions({ onSuccess: done }));
  const remove = useMutation(trpc.settings.removeOAuthApp.mutationOptions({ onSuccess: refresh }));
  const providers = q.data?.providers ?? [];
  const chosen = providers.find((p) => p.sourceType === draft.provider);
  const error = add.error?.message ?? update.error?.message ?? remove.error?.message;
  // the refused field is marked on itself (aria-invalid, its sentence as the input's description)
  const { mark, note } = useFieldMarks(editing ? update.error : add.error);
  const field = (k: keyof Draft, label: string, props: React.InputHTMLAttributes<HTMLInputElement> = {}) => (
    <div className="text-sm">
      <label>
        <span className="mb-1 block font-medium">{label}</span>
        <input value={draft[k]} onChange={(e) => setDraft({ ...draft, [k]: e.target.value })} className={input} {...props} {...mark(k)} />
      </label>
      {note(k)}
    </div>
  );
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (editing) update.mutate({ id: editing, ...draft });
    else add.mutate(draft);
  };

  return (
    <section aria-labelledby="oauth-apps-heading" className="space-y-3">
      <h2 id="oauth-apps-heading" className="text-lg font-semibold">OAuth apps</h2>
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Your organisation&apos;s own OAuth clients. Consent and service principals use them before the server&apos;s defaults. Vendors that register a client per instance
        (Zendesk, ServiceNow, Snowflake, NetSuite, Workday, self-managed GitLab, Datadog sites) need the instance host. Secrets are kept encrypted and never shown again.
      </p>
      {q.data && q.data.apps.length > 0 ? (
        <PlainTable columns={["Vendor", "Instance", "Serves", "Client id", "Secret", "Added by", ""]}>
            {q.data.apps.map((a) => (
              <Row key={a.id}>
                <Cell>{a.providerName}</Cell>
                <Cell>{a.instanceHost || "—"}</Cell>
                <Cell>
                  {a.principal ? `Service principal “${a.principal}”` : "Admin consent"}
                  <span className="block font-mono text-xs text-slate-500">{a.principal ? `sp:${a.principal}` : `consent:${a.provider}`}</span>
                </Cell>
                <Cell className="font-mono">{a.clientId}</Cell>
                <Cell>kept (encrypted)</Cell>
                <Cell>{a.createdBy}</Cell>
                <Cell className="space-x-2 text-right">
                  <button
                    type="button"
                    className={button}
                    onClick={() => (setEditing(a.id), setDraft({ provider: a.provider, instanceHost: a.instanceHost, principal: a.principal, clientId: a.clientId, clientSecret: "", assertionKeyId: a.assertionKeyId ?? "", authorizeUrl: a.authorizeUrl ?? "", tokenUrl: a.tokenUrl ?? "" }))}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    className={button}
                    disabled={remove.isPending}
                    onClick={() => {
                      if (window.confirm(`Remove the ${a.providerName} OAuth app${a.instanceHost ? ` for ${a.instanceHost}` : ""}? Its client secret is deleted; new consents and token refreshes for it use the server's settings, if any.`)) remove.mutate({ id: a.id });
                    }}
                  >
                    Remove<span className="sr-only"> the {a.providerName} OAuth app</span>
                  </button>
                </Cell>
              </Row>
            ))}
        </PlainTable>
      ) : (
        <p className="text-sm">No OAuth apps yet: the server&apos;s OAUTH_* settings apply.</p>
      )}
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3" aria-label={editing ? "Edit OAuth app" : "Add OAuth app"}>
        <div className="text-sm">
          <label>
            <span className="mb-1 block font-medium">Vendor</span>
            <select value={draft.provider} onChange={(e) => setDraft({ ...draft, provider: e.target.value })} className={input} disabled={!!editing} {...mark("provider")}>
              <option value="">Choose…</option>
              {providers.map((p) => (
                <option key={p.sourceType} value={p.sourceType}>
                  {p.displayName}
                </option>
              ))}
            </select>
          </label>
          {note("provider")}
        </div>
        {field("instanceHost", chosen?.perInstance ? "Instance host (required)" : "Instance host", { placeholder: chosen?.instanceHint ?? "" })}
        {field("principal", "Service principal (sp:<name>, empty: consent)")}
        {field("clientId", "Client id", { autoComplete: "off" })}
        {field("clientSecret", editing ? "New secret or private key (empty: keep)" : "Client secret or private key", { type: "password", autoComplete: "new-password" })}
        {field("assertionKeyId", "Key id (private_key_jwt)")}
        {chosen?.perInstance ? (
          <>
            {/* a vendor whose endpoints differ per customer (Workday: shown in its "View API Clients" task) needs both */}
            {field("authorizeUrl", chosen?.endpointsRequired ? "Authorization URL (required)" : "Authorization URL (optional)", { placeholder: "https://…", required: chosen?.endpointsRequired })}
            {field("tokenUrl", chosen?.endpointsRequired ? "Token URL (required)" : "Token URL (optional)", { placeholder: "https://…", required: chosen?.endpointsRequired })}
          </>
        ) : null}
        <button type="submit" className={button} disabled={add.isPending || update.isPending || !draft.provider}>
          {editing ? "Save" : "Add OAuth app"}
        </button>
        {editing ? (
          <button type="button" className={button} onClick={() => (setEditing(null), setDraft(EMPTY))}>
            Cancel
          </button>
        ) : null}
      </form>
      {error ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {error}
        </p>
      ) : null}
    </section>
  );
}
