"use server";
/**
 * "Continue to <Provider>": checks the admin on the server, starts the consent flow for the
 * connections the screen listed, and leaves for the provider.
 */
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";
import { startConsent } from "@/server/credentials/consent-flow";
import { consentFlowDeps, consentRedirectUri } from "@/server/http/consent-deps";

export type BeginConsentState = { error?: string };

export async function beginConsent(connectionId: string, _prev: BeginConsentState, form: FormData): Promise<BeginConsentState> {
  const session = await auth();
  if (!session?.user || !can(session.user.role, "consent")) return { error: "Only an admin can give consent. Sign in with an admin account." };
  if (!z.uuid().safeParse(connectionId).success) return { error: "No connection has this id." };
  // the connections the consent screen listed: the grant resumes exactly these (the use-case keeps only this tenant's waiting ones)
  const listed = form.getAll("connection_ids").map(String).filter((id) => z.uuid().safeParse(id).success).slice(0, 200);
  const h = await headers();
  // the browser's own origin (sent with every form POST), so the provider sends it back here
  const origin = h.get("origin") ?? `${h.get("x-forwarded-proto") ?? "http"}://${h.get("x-forwarded-host") ?? h.get("host")}`;
  const started = await startConsent(consentFlowDeps(), {
    tenantId: session.user.tenantId,
    connectionId,
    userId: session.user.id,
    userLabel: session.user.email ?? session.user.name ?? "an admin",
    redirectUri: consentRedirectUri(origin),
    connectionIds: listed,
  });
  if (!started.ok) return { error: started.error.message };
  redirect(started.value.url);
}
