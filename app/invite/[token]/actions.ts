"use server";
import { forgetSessionState } from "@/server/auth/session-check";
import { getDb } from "@/server/db/client";
import { acceptLink } from "@/server/people/accept-invite";

export type SetPasswordState = { error?: string; done?: { kind: "invite" | "reset"; email: string } };

/** Sets the password from an invite or reset link (the token is bound by the page, never a form field). */
export async function setPasswordFromLink(token: string, _prev: SetPasswordState, form: FormData): Promise<SetPasswordState> {
  const password = String(form.get("password") ?? "");
  const confirm = String(form.get("confirm") ?? "");
  const r = await acceptLink({ db: getDb() }, { token, password, confirm });
  if (!r.ok) return { error: r.error.message };
  // a new password ends the user's other sessions: at once in this process, elsewhere within the re-check time
  forgetSessionState(r.value.userId);
  return { done: { kind: r.value.kind, email: r.value.email } };
}
