"use server";
import { getDb } from "@/server/db/client";
import { acceptLink } from "@/server/people/accept-invite";

export type SetPasswordState = { error?: string; done?: { kind: "invite" | "reset"; email: string } };

/** Sets the password from an invite or reset link (the token is bound by the page, never a form field). */
export async function setPasswordFromLink(token: string, _prev: SetPasswordState, form: FormData): Promise<SetPasswordState> {
  const password = String(form.get("password") ?? "");
  const confirm = String(form.get("confirm") ?? "");
  const r = await acceptLink({ db: getDb() }, { token, password, confirm });
  return r.ok ? { done: r.value } : { error: r.error.message };
}
