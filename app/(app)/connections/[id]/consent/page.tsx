/**
 * Admin consent for one connection: says in words what will be requested (the provider, the
 * catalog's read-only scopes, that nothing is written) before sending the admin to the provider.
 * Admins only, checked here on the server.
 */
import Link from "next/link";
import { forbidden, notFound } from "next/navigation";
import { z } from "zod";
import { ConsentStartForm } from "@/components/consent-start-form";
import { getQueryClient, trpc } from "@/lib/trpc-server";
import { auth } from "@/server/auth/config";
import { getCatalogEntry } from "@/server/connectors/catalog";
import { can } from "@/server/auth/roles";
import { beginConsent } from "./actions";

const card = "rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900";

export default async function ConsentPage({ params }: { params: Promise<{ id: string }> }) {
  const session = await auth();
  if (!can(session?.user?.role, "consent")) forbidden();
  const { id } = await params;
  if (!z.uuid().safeParse(id).success) notFound();
  const s = await getQueryClient()
    .fetchQuery(trpc.consents.get.queryOptions({ id }))
    .catch(() => null);
  if (!s) notFound();
  // least privilege in words (issue 10 item 6): the entry's notes, and what a grant allows when the vendor has no read-only one
  const entry = getCatalogEntry(s.sourceType);
  const privilegeNote = entry && entry.readOnlyGrant !== "full" ? entry.privilegeNote : undefined;

  return (
    <section className="max-w-2xl space-y-5">
      <p className="text-sm">
        <Link href={`/connections/${s.connectionId}`} className="text-indigo-600 underline dark:text-indigo-400">
          ← Back to the connection
        </Link>
      </p>
      <h1 className="text-2xl font-semibold">Give {s.displayName} read-only access</h1>
      <p className="text-slate-700 dark:text-slate-300">
        The {s.sourceName} connection for <span className="font-medium">{s.resourceIds.join(", ")}</span> (namespace {s.namespace}) needs an admin to
        approve access at {s.displayName}. You will sign in there{s.authorizationHost ? <> (at <span className="font-mono text-sm">{s.authorizationHost}</span>)</> : null} and
        then come back here.
      </p>

      <div className={card}>
        <h2 className="mb-2 text-sm font-medium">What will be requested</h2>
        {s.scopes.length ? (
          <ul className="mb-3 flex flex-wrap gap-2" data-testid="consent-scopes">
            {s.scopes.map((scope) => (
              <li key={scope} className="rounded-md bg-slate-100 px-2 py-0.5 font-mono text-xs dark:bg-slate-800">
                {scope}
              </li>
            ))}
          </ul>
        ) : (
          <p className="mb-3 text-sm text-slate-500">No scopes: only the provider's basic sign-in.</p>
        )}
        <ul className="list-disc space-y-1 pl-5 text-sm text-slate-700 dark:text-slate-300">
          {privilegeNote ? (
            <li data-testid="consent-privilege-note" className="font-medium text-amber-800 dark:text-amber-200">
              {entry?.readOnlyGrant === "none" ? `${s.displayName} offers no read-only grant. ` : `${s.displayName} offers only a partly read-only grant. `}
              {privilegeNote}
            </li>
          ) : (
            <li>Read-only scopes only, taken from the connector catalog. Safe Mode never asks for permission to change anything.</li>
          )}
          {entry?.notes ? <li data-testid="consent-entry-notes">{entry.notes}</li> : null}
          <li>Nothing is written to {s.displayName}: onboarding reads metadata and a first sync of at most 20 records.</li>
          <li>The tokens {s.displayName} issues are stored encrypted on this server and are never shown on any page.</li>
          <li>The link to {s.displayName} works once and expires after 10 minutes.</li>
        </ul>
      </div>

      {s.covers.length ? (
        <div className={card} data-testid="consent-covers">
          <h2 className="mb-2 text-sm font-medium">
            {s.covers.length === 1 ? "This consent resumes this connection only" : `This consent resumes these ${s.covers.length} connections, and no others`}
          </h2>
          <ul className="space-y-1 text-sm text-slate-700 dark:text-slate-300">
            {s.covers.map((c) => (
              <li key={c.id}>
                <Link href={`/connections/${c.id}`} className="text-indigo-600 underline dark:text-indigo-400">
                  {c.sourceType} · {c.resourceIds.join(", ")}
                </Link>{" "}
                <span className="text-slate-500">(namespace {c.namespace})</span>
              </li>
            ))}
          </ul>
          {s.waitingBeyond ? (
            <p className="mt-2 text-sm text-slate-600 dark:text-slate-400" data-testid="consent-waiting-beyond">
              {s.waitingBeyond === 1 ? "1 more connection waits" : `${s.waitingBeyond.toLocaleString("en")} more connections wait`} on this consent: a screen lists {s.covers.length} of them, this one first and then the newest. After this consent, open one of the others and consent again to resume them.
            </p>
          ) : null}
          <p className="mt-2 text-xs text-slate-500">Connections that start waiting after you continue need their own consent. Only you can finish this consent.</p>
        </div>
      ) : null}

      {s.blocked ? (
        <p role="alert" className="rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
          {s.blocked}
        </p>
      ) : null}
      <ConsentStartForm action={beginConsent.bind(null, s.connectionId)} providerName={s.displayName} disabled={!!s.blocked} connectionIds={s.covers.map((c) => c.id)} />
    </section>
  );
}
