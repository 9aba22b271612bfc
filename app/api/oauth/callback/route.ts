/**
 * The OAuth redirect URI (`<origin>/api/oauth/callback`) for admin consent. Only a signed-in
 * admin can finish a consent, for their own organisation; the state is checked by the use-case.
 * Redirects to the connection page (or the consents page when the link names no connection of
 * this organisation) with a code that the page turns into words. Never echoes the query, which
 * carries the authorization code.
 */
import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";
import { completeConsent } from "@/server/credentials/consent-flow";
import { consentFlowDeps } from "@/server/http/consent-deps";

export const dynamic = "force-dynamic";

const NO_LEAK = { "cache-control": "no-store", "referrer-policy": "no-referrer" };

function refusal(status: number, title: string, text: string): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5">
<h1 style="font-size:1.5rem">${title}</h1><p>${text}</p><p><a href="/login">Sign in</a> · <a href="/">Back to the funnel</a></p></body></html>`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8", ...NO_LEAK } });
}

export async function GET(req: Request): Promise<Response> {
  const session = await auth();
  if (!session?.user) {
    return refusal(401, "Sign in to finish the consent", "Only a signed-in admin can finish an admin consent. Nothing was granted. Sign in as an admin and start again from the connection's consent page.");
  }
  if (!can(session.user.role, "consent")) {
    return refusal(403, "You need the admin role to finish a consent", "Your account cannot give consent for data sources, so nothing was granted. Ask an admin.");
  }
  const r = await completeConsent(consentFlowDeps(), { tenantId: session.user.tenantId, userId: session.user.id, userLabel: session.user.email ?? session.user.name ?? "a user", callbackUrl: req.url });
  const to = r.ok
    ? `/connections/${r.value.connectionId}?consent=granted`
    : r.error.connectionId
      ? `/connections/${r.error.connectionId}?consent=${r.error.code}`
      : `/consents?consent=${r.error.code}`;
  // relative: the browser resolves it against the origin it used
  return new Response(null, { status: 303, headers: { location: to, ...NO_LEAK } });
}
