"use client";
/**
 * One connection: status and reason, evidence, owner, risk, credential locator (never a secret),
 * discovered schema, first sync, a redacted preview, and the stage timeline. Admins can heal a
 * HEALING connection from here (never in the read-only demo namespace), and approve the
 * destination a NETWORK_BLOCKED connection was refused, or allow its secret where it would go
 * when the secret is bound elsewhere; either resumes its onboarding.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { ConsentNotice } from "./consent-notice";
import { resumedInWords } from "./row-actions";
import { StatusBadge } from "./status-badge";
import { useTRPC } from "./trpc-provider";

type Schema = { streams?: { name: string; fields: { name: string; type: string }[] }[] } | null;
type Preview = { stream: string; data: Record<string, unknown> }[] | null;

type Blocked = { kind: "host"; host: string; port: number } | { kind: "folder"; path: string };

function BlockedDestinationNotice(p: { destination: Blocked; sourceType: string; canApprove: boolean; pending: boolean; error: string | null; onApprove: () => void }) {
  const what = p.destination.kind === "host" ? `${p.destination.host}:${p.destination.port}` : p.destination.path;
  return (
    <div data-testid="blocked-destination" className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950">
      <p>
        {p.destination.kind === "host"
          ? `This connection tried to reach ${what}, which is neither one of the ${p.sourceType} connector's own hosts nor on this tenant's approved destinations, so nothing was sent there.`
          : `This connection tried to read the folder ${what}, which is not inside one of this tenant's approved folders, so nothing was read.`}
      </p>
      {p.canApprove ? (
        <div className="flex flex-wrap items-center gap-3">
          <button
            type="button"
            disabled={p.pending}
            onClick={p.onApprove}
            className="rounded-md bg-amber-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-amber-600 disabled:opacity-60"
          >
            {p.pending ? "Approving…" : "Approve this destination"}
          </button>
          <span className="text-slate-600 dark:text-slate-400">
            {p.destination.kind === "host" ? `Approves ${p.destination.host} on port ${p.destination.port}` : `Approves ${what}`} for {p.sourceType} connections only, records it in the audit log and resumes onboarding. Review or remove it on the{" "}
            <Link href="/admin/settings" className="underline">
              Settings
            </Link>{" "}
            page.
          </span>
          {p.error ? <span className="text-red-700 dark:text-red-300">{p.error}</span> : null}
        </div>
      ) : (
        <p className="text-slate-600 dark:text-slate-400">An admin can approve this destination.</p>
      )}
    </div>
  );
}

type SecretBindingState = { locator: string; source_type: string; destination: string; bound: { source_type: string; destination: string; origin: "first_use" | "admin"; created_at: Date | string }[]; bound_total: number };

const placeInWords = (sourceType: string, destination: string) => `${sourceType}${destination ? ` at ${destination}` : ""}`;

/** A NETWORK_BLOCKED connection whose secret is bound elsewhere (server/onboarding/secret-binding.ts): where, and the admin's way out. */
function SecretBindingNotice(p: { state: SecretBindingState; canAllow: boolean; pending: boolean; error: string | null; onAllow: () => void }) {
  const here = placeInWords(p.state.source_type, p.state.destination);
  // asked first: anyone who can post intents with this secret could then send it there
  const [confirming, setConfirming] = useState(false);
  return (
    <div data-testid="secret-binding" className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950">
      <p>
        {p.state.bound.length === 0
          ? `This organisation's admins approve where each secret may go, and ${p.state.locator} is bound nowhere yet; this connection would send it to ${here}. It was not read, and nothing was sent.`
          : `The secret ${p.state.locator} may be sent only where it is bound, and this connection would send it to ${here}. It was not read, and nothing was sent.`}
      </p>
      <ul className="list-disc pl-5 text-slate-700 dark:text-slate-300">
        {p.state.bound.map((b) => (
          <li key={`${b.source_type} ${b.destination}`}>
            {`Bound to ${placeInWords(b.source_type, b.destination)} — ${b.origin === "admin" ? "allowed by an admin" : "where it was first used"} on ${new Date(b.created_at).toISOString().slice(0, 10)}`}
          </li>
        ))}
        {p.state.bound_total > p.state.bound.length ? <li>{`and ${(p.state.bound_total - p.state.bound.length).toLocaleString("en-US")} more (Settings lists them all)`}</li> : null}
      </ul>
      {p.canAllow ? (
        <div className="flex flex-wrap items-center gap-3">
          {confirming ? (
            <>
              <button type="button" disabled={p.pending} onClick={p.onAllow} className="rounded-md bg-amber-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-amber-600 disabled:opacity-60">
                {p.pending ? "Allowing…" : `Yes, send ${p.state.locator} to ${here} too`}
              </button>
              <button type="button" disabled={p.pending} onClick={() => setConfirming(false)} className="rounded-md border border-slate-300 px-3 py-1.5 text-sm dark:border-slate-700">
                Keep it bound
              </button>
            </>
          ) : (
            <button type="button" onClick={() => setConfirming(true)} className="rounded-md bg-amber-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-amber-600">
              Allow this secret here
            </button>
          )}
          <span className="text-slate-600 dark:text-slate-400">
            Binds the secret to {here} too, records it in the audit log and resumes onboarding. Review or remove bindings on the{" "}
            <Link href="/admin/settings" className="underline">
              Settings
            </Link>{" "}
            page.
          </span>
          {p.error ? <span className="text-red-700 dark:text-red-300">{p.error}</span> : null}
        </div>
      ) : (
        <p className="text-slate-600 dark:text-slate-400">An admin can allow this secret here, if it is meant for it.</p>
      )}
    </div>
  );
}

const card = "rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900";
/** How many discovered streams the page lists (it says how many there are beyond). */
const SHOWN_STREAMS = 20;

export function ConnectionDetail({ id, canHeal }: { id: string; canHeal: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.connections.get.queryOptions({ id }, { refetchInterval: (query) => (query.state.data?.status === "PENDING" ? 1_000 : 10_000) }));
  const heal = useMutation(
    trpc.connections.heal.mutationOptions({
      onSettled: () => qc.invalidateQueries({ queryKey: trpc.connections.get.queryKey({ id }) }),
    }),
  );
  const approve = useMutation(
    trpc.settings.approveBlockedDestination.mutationOptions({
      onSettled: () => qc.invalidateQueries({ queryKey: trpc.connections.get.queryKey({ id }) }),
    }),
  );

  const allowSecret = useMutation(
    trpc.settings.allowSecretHere.mutationOptions({
      onSettled: () => qc.invalidateQueries({ queryKey: trpc.connections.get.queryKey({ id }) }),
    }),
  );

  if (q.isPending) return <p className="text-slate-500">Loading the connection…</p>;
  if (q.isError) return <p className="text-red-700 dark:text-red-300">{q.error.message}</p>;
  const c = q.data;
  const schema = c.discovered_schema as Schema;
  const preview = c.sample_preview as Preview;
  const owner = c.owner as { user?: string; confidence?: number; why?: string };
  const evidence = c.evidence as { status?: string; source?: string; ts?: string };

  return (
    <section className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">{c.source_type}</h1>
        <StatusBadge status={c.status} />
        <span className="text-sm text-slate-500">namespace {c.namespace}</span>
        {c.sandbox ? (
          <span className="rounded-full bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900 dark:bg-amber-900 dark:text-amber-100" title="A local stand-in that replays the vendor's documented API; not the real vendor">
            Sandbox source
          </span>
        ) : null}
      </div>
      <ConsentNotice />
      {c.privilege ? (
        <p data-testid="privilege-notice" role="note" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
          <strong>{c.privilege.read_only_grant === "none" ? "No read-only grant: " : "Only partly read-only: "}</strong>
          {c.privilege.note}
        </p>
      ) : null}
      <p data-testid="status-reason" className="text-slate-700 dark:text-slate-300">
        {c.message}
      </p>
      {c.consent_url ? (
        <Link href={c.consent_url} className="inline-block rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
          Give consent
        </Link>
      ) : null}

      {c.status === "NETWORK_BLOCKED" && c.blocked_destination ? (
        <BlockedDestinationNotice
          destination={c.blocked_destination}
          sourceType={c.source_type}
          canApprove={c.can_approve_destination}
          pending={approve.isPending}
          error={approve.isError ? approve.error.message : null}
          onApprove={() => approve.mutate({ connectionId: c.connection_id })}
        />
      ) : null}
      {approve.data ? (
        <p role="status" className="text-sm">
          {`Approved ${approve.data.destination.pattern} for ${c.source_type}; onboarding resumed for ${resumedInWords(approve.data.resumed)}.`}
        </p>
      ) : null}

      {c.secret_binding ? (
        <SecretBindingNotice
          state={c.secret_binding}
          canAllow={c.can_allow_secret}
          pending={allowSecret.isPending}
          error={allowSecret.isError ? allowSecret.error.message : null}
          onAllow={() => allowSecret.mutate({ connectionId: c.connection_id })}
        />
      ) : null}
      {allowSecret.data ? (
        <p role="status" className="text-sm">
          {`Allowed ${allowSecret.data.binding.locator} for ${placeInWords(allowSecret.data.binding.sourceType, allowSecret.data.binding.destination)}; onboarding resumed for ${resumedInWords(allowSecret.data.resumed)}.`}
        </p>
      ) : null}

      {c.status === "HEALING" && canHeal && c.namespace !== "demo" ? (
        <div className="flex items-center gap-3">
          <button
            type="button"
            disabled={heal.isPending}
            onClick={() => heal.mutate({ namespace: c.namespace, id: c.connection_id })}
            className="rounded-md bg-violet-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-violet-500 disabled:opacity-60"
          >
            {heal.isPending ? "Healing… (re-running health, discovery and first sync)" : "Heal now"}
          </button>
          {heal.isError ? <span className="text-sm text-red-700 dark:text-red-300">{heal.error.message}</span> : null}
        </div>
      ) : null}
      {heal.data ? (
        <p role="status" className="text-sm">
          {heal.data.healed === 1 ? "Healed: the connection is active again." : `Still not healthy: ${heal.data.outcomes[0]?.reason ?? "see the timeline"}.`}
        </p>
      ) : null}

      <div className="grid gap-4 md:grid-cols-2">
        <dl className={`${card} grid grid-cols-[9rem_1fr] gap-x-3 gap-y-1 text-sm`}>
          <dt className="text-slate-500">Resources</dt>
          <dd className="font-mono text-xs break-all">{c.resource_ids.join(", ")}</dd>
          <dt className="text-slate-500">Credential</dt>
          <dd className="font-mono text-xs">{c.credential_locator}</dd>
          <dt className="text-slate-500">Risk</dt>
          <dd>{c.risk_level === "med" ? "medium" : c.risk_level}</dd>
          <dt className="text-slate-500">Owner</dt>
          <dd>
            {owner.user ?? "—"} {owner.confidence !== undefined ? `(${Math.round(owner.confidence * 100)}% sure: ${owner.why})` : ""}
          </dd>
          <dt className="text-slate-500">Evidence</dt>
          <dd>
            {evidence.status} by {evidence.source} at {evidence.ts}
          </dd>
          <dt className="text-slate-500">First sync</dt>
          <dd data-testid="first-sync">{c.first_sync_rows === null ? "not yet" : `${c.first_sync_rows} records in ${c.latency_ms} ms`}</dd>
          <dt className="text-slate-500">Attempts</dt>
          <dd>{c.attempts}</dd>
          <dt className="text-slate-500">First received</dt>
          <dd>{c.first_received_at.replace("T", " ").slice(0, 19)} UTC</dd>
        </dl>
        <div className={card}>
          <h2 className="mb-2 text-sm font-medium">Discovered schema (metadata only)</h2>
          {schema?.streams?.length ? (
            <ul className="space-y-2 text-sm">
              {schema.streams.length > SHOWN_STREAMS ? (
                <li className="text-xs text-slate-500" data-testid="streams-shown">
                  The first {SHOWN_STREAMS} of {schema.streams.length.toLocaleString("en-US")} streams
                </li>
              ) : null}
              {schema.streams.slice(0, SHOWN_STREAMS).map((s) => (
                <li key={s.name}>
                  <span className="font-medium">{s.name}</span>{" "}
                  <span className="text-xs text-slate-500">{s.fields.map((f) => `${f.name}: ${f.type}`).join(", ")}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-500">Not discovered yet.</p>
          )}
          {c.schema_fingerprint ? <p className="mt-2 font-mono text-xs text-slate-500">fingerprint {c.schema_fingerprint.slice(0, 16)}…</p> : null}
        </div>
      </div>

      {preview?.length ? (
        <div className={card}>
          <h2 className="mb-2 text-sm font-medium">Preview of the first sync (redacted, 5 records at most; emails, phone numbers and card numbers masked unless turned off in Settings)</h2>
          <div className="overflow-x-auto">
            <table className="text-left text-xs">
              <tbody>
                {preview.map((r, i) => (
                  <tr key={i} className="border-b border-slate-100 dark:border-slate-800">
                    <td className="py-1 pr-3 text-slate-500">{r.stream}</td>
                    <td className="py-1 font-mono">{JSON.stringify(r.data)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}

      <div className={card}>
        <h2 className="mb-2 text-sm font-medium">Timeline</h2>
        {c.events_total > c.events.length ? (
          <p className="mb-1 text-xs text-slate-500" data-testid="timeline-count">
            The latest {c.events.length} of {c.events_total} events.
          </p>
        ) : null}
        <ol className="space-y-1 text-sm" data-testid="timeline">
          {c.events.map((e, i) => (
            <li key={i} className="flex flex-wrap gap-x-3">
              <span className="tabular-nums text-slate-500">{e.at.replace("T", " ").slice(0, 19)} UTC</span>
              <span>attempt {e.attempt}</span>
              <span className="font-medium">{e.stage.replace(/_/g, " ")}</span>
              <span className={e.outcome === "ok" ? "text-emerald-700 dark:text-emerald-300" : "text-red-700 dark:text-red-300"}>{e.outcome === "ok" ? "passed" : "failed"}</span>
              {e.duration_ms !== null ? <span className="tabular-nums text-slate-500">{Math.round(e.duration_ms)} ms</span> : null}
              {e.message ? <span className="text-slate-600 dark:text-slate-400">{e.message}</span> : null}
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
