/**
 * Sign-ins for the audit log (success and failure), called by the sign-in code (Auth.js
 * callbacks). Recorded in the tenant of the account the email belongs to; an email that has no
 * account belongs to no tenant, so nothing is recorded (the caller may log it). Never the
 * password: only the email, the method and a short reason in words.
 */
import { recordAudit } from "../audit/audit-repository";
import type { Db } from "../db/client";
import { findUserForSignIn } from "./people-repository";

export type SignInAttempt = { email: string; ok: boolean; reason?: string; method?: "password" | "sso" };

export async function recordSignIn(db: Db, attempt: SignInAttempt): Promise<{ recorded: boolean }> {
  const email = attempt.email.trim().toLowerCase().slice(0, 320);
  if (!email) return { recorded: false };
  const user = await findUserForSignIn(db, email);
  if (!user) return { recorded: false };
  const details: Record<string, unknown> = { method: attempt.method ?? "password" };
  if (!attempt.ok) details.reason = (attempt.reason ?? "wrong email or password").slice(0, 120);
  await recordAudit(db, user.tenantId, { id: user.id, label: user.email }, attempt.ok ? "sign_in.succeeded" : "sign_in.failed", user.email, details);
  return { recorded: true };
}
