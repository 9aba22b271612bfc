"use client";
/**
 * The Users page (admins): everyone of the tenant (local and single sign-on) with their role and
 * state; invite by email with a role (the link is shown once); change a role; disable and
 * re-enable; make a password-reset link; withdraw an open invite. Refusals (the last admin,
 * your own account) are shown in the server's words.
 */
import { Cell, PlainTable, Row } from "./plain-table";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { RouterOutputs } from "@/lib/router-types";
import { fieldIssuesOf, useFieldMarks } from "./field-issues";
import { useTRPC } from "./trpc-provider";

type Person = RouterOutputs["users"]["list"]["users"][number];
type Issued = { kind: "invite" | "reset"; email: string; url: string; expiresAt: Date };

const when = (d: Date | string) => `${new Date(d).toISOString().slice(0, 16).replace("T", " ")} UTC`;
const roleInWords = (r: string) => (r === "admin" ? "Admin" : "Executive (read-only)");

function signInInWords(p: Person): string {
  if (p.sso && p.hasPassword) return "Single sign-on or password";
  if (p.sso) return "Single sign-on";
  return p.hasPassword ? "Password" : "No password yet";
}

export function UsersManager() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.users.list.queryOptions());
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<"admin" | "exec">("exec");
  const [issued, setIssued] = useState<Issued | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const onError = (e: { message: string }) => setProblem(e.message);
  const done = () => {
    setProblem(null);
    void refresh();
  };
  const show = (kind: Issued["kind"]) => (r: { email: string; path: string; expiresAt: Date }) => {
    setIssued({ kind, email: r.email, url: `${window.location.origin}${r.path}`, expiresAt: r.expiresAt });
    done();
  };

  const invite = useMutation(
    trpc.users.invite.mutationOptions({
      onSuccess: (r) => {
        setEmail("");
        show("invite")(r);
      },
      // a refused e-mail says so under its field; anything else in the page's one sentence
      onError: (e) => (fieldIssuesOf(e).length ? setProblem(null) : onError(e)),
    }),
  );
  const { mark, note } = useFieldMarks(invite.error);
  const changeRole = useMutation(trpc.users.changeRole.mutationOptions({ onSuccess: done, onError }));
  const setDisabled = useMutation(trpc.users.setDisabled.mutationOptions({ onSuccess: done, onError }));
  const reset = useMutation(trpc.users.resetPassword.mutationOptions({ onSuccess: show("reset"), onError }));
  const revoke = useMutation(trpc.users.revokeInvite.mutationOptions({ onSuccess: done, onError }));
  /** one change at a time: a second click while one is on its way would act on a stale row */
  const busy = changeRole.isPending || setDisabled.isPending || revoke.isPending;

  return (
    <section className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Users</h1>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
          People of your organisation. Admins manage connections, keys, settings and users; executives see the funnel only. Invite links last 72 hours and
          password-reset links 24 hours; each is shown once and works once.
        </p>
      </div>

      <form
        className="flex flex-wrap items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          setIssued(null);
          invite.mutate({ email, role });
        }}
      >
        <div className="text-sm">
          <label>
            <span className="mb-1 block font-medium">Email</span>
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="colleague@example.com" className="w-72 rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-900" {...mark("email")} />
          </label>
          {note("email")}
        </div>
        <label className="text-sm">
          <span className="mb-1 block font-medium">Role</span>
          <select value={role} onChange={(e) => setRole(e.target.value as "admin" | "exec")} className="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-900">
            <option value="exec">Executive (read-only)</option>
            <option value="admin">Admin</option>
          </select>
        </label>
        <button type="submit" disabled={invite.isPending} className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
          {invite.isPending ? "Inviting…" : "Invite"}
        </button>
      </form>

      {problem ? (
        <p role="alert" data-testid="users-problem" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
          {problem}
        </p>
      ) : null}

      {issued ? (
        <div role="status" className="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950">
          <p className="font-medium">
            {issued.kind === "invite" ? `Invite link for ${issued.email}` : `Password-reset link for ${issued.email}`}, valid until {when(issued.expiresAt)}. Copy it now and send it to them:
            it will not be shown again.
          </p>
          <code data-testid="issued-link" className="mt-1 block break-all font-mono">
            {issued.url}
          </code>
        </div>
      ) : null}

      {q.isPending ? (
        <p className="text-slate-500">Loading users…</p>
      ) : q.isError ? (
        <p className="text-red-700 dark:text-red-300">{q.error.message}</p>
      ) : (
        <>
          <PlainTable columns={["Email", "Role", "Signs in with", "State", "Since", ""]}>
                {q.data.users.map((u) => (
                  <Row key={u.id}>
                    <Cell>
                      {u.email}
                      {u.isYou ? <span className="ml-1 text-slate-500">(you)</span> : null}
                    </Cell>
                    <Cell>{roleInWords(u.role)}</Cell>
                    <Cell>{signInInWords(u)}</Cell>
                    <Cell>{u.disabledAt ? `Disabled since ${when(u.disabledAt)}` : "Active"}</Cell>
                    <Cell>{when(u.createdAt)}</Cell>
                    <Cell className="space-x-3 whitespace-nowrap">
                      <button
                        type="button"
                        disabled={busy}
                        className="text-indigo-700 underline hover:no-underline disabled:opacity-60 dark:text-indigo-300"
                        onClick={() => {
                          // taking admin rights away is asked first (your own: you lose this page at once)
                          const sure =
                            u.role !== "admin" ||
                            window.confirm(
                              u.isYou
                                ? "Make yourself an executive? You lose admin access at once, including this page."
                                : `Make ${u.email} an executive? They keep read-only access to the funnel and lose admin access at once.`,
                            );
                          if (sure) changeRole.mutate({ userId: u.id, role: u.role === "admin" ? "exec" : "admin" });
                        }}
                      >
                        {u.role === "admin" ? "Make executive" : "Make admin"}
                        <span className="sr-only"> {u.email}</span>
                      </button>
                      {u.isYou ? null : (
                        <button
                          type="button"
                          disabled={busy}
                          className="text-red-700 underline hover:no-underline disabled:opacity-60 dark:text-red-300"
                          onClick={() => {
                            const sure = Boolean(u.disabledAt) || window.confirm(`Disable ${u.email}? Their sessions end within a minute and they cannot sign in until re-enabled.`);
                            if (sure) setDisabled.mutate({ userId: u.id, disabled: !u.disabledAt });
                          }}
                        >
                          {u.disabledAt ? "Enable" : "Disable"}
                          <span className="sr-only"> {u.email}</span>
                        </button>
                      )}
                      {u.disabledAt ? null : (
                        <button
                          type="button"
                          className="text-indigo-700 underline hover:no-underline dark:text-indigo-300"
                          onClick={() => {
                            setIssued(null);
                            reset.mutate({ userId: u.id });
                          }}
                        >
                          Reset password<span className="sr-only"> {u.email}</span>
                        </button>
                      )}
                    </Cell>
                  </Row>
                ))}
          </PlainTable>

          <div>
            <h2 className="text-lg font-semibold">Open invites</h2>
            {q.data.invitesTotal > q.data.invites.length ? (
              <p className="text-sm text-slate-600 dark:text-slate-400" data-testid="invites-beyond">
                The {q.data.invites.length.toLocaleString("en-US")} newest of {q.data.invitesTotal.toLocaleString("en-US")} open invites are listed; older ones expire 72 hours after they were sent.
              </p>
            ) : null}
            {q.data.invites.length === 0 ? (
              <p className="text-sm text-slate-600 dark:text-slate-400">No open invites.</p>
            ) : (
              <PlainTable columns={["Email", "Role", "Invited by", "Link", ""]} className="mt-2">
                  {q.data.invites.map((i) => (
                    <Row key={i.id}>
                      <Cell>{i.email}</Cell>
                      <Cell>{roleInWords(i.role)}</Cell>
                      <Cell>{i.createdBy}</Cell>
                      <Cell>{i.expired ? `Expired ${when(i.expiresAt)}` : `Valid until ${when(i.expiresAt)}`}</Cell>
                      <Cell>
                        <button
                          type="button"
                          disabled={busy}
                          className="text-red-700 underline hover:no-underline disabled:opacity-60 dark:text-red-300"
                          onClick={() => {
                            if (window.confirm(`Withdraw the invite for ${i.email}? Its link stops working at once.`)) revoke.mutate({ inviteId: i.id });
                          }}
                        >
                          Withdraw<span className="sr-only"> invite for {i.email}</span>
                        </button>
                      </Cell>
                    </Row>
                  ))}
              </PlainTable>
            )}
          </div>
        </>
      )}
    </section>
  );
}
