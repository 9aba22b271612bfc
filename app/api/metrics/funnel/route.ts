import { auth } from "@/server/auth/config";
import { can } from "@/server/auth/roles";
import { apiHandler, authenticateRequest, errorResponse, json, methodNotAllowed } from "@/server/http/respond";
import { apiSettings, services } from "@/server/http/services";
import { getFunnel } from "@/server/onboarding/funnel";
import { NAMESPACE_RE } from "@/server/onboarding/schemas";

export const dynamic = "force-dynamic";

// AOD reads it with its API key; signed-in execs and admins read it from the browser.
export const GET = apiHandler("GET /api/metrics/funnel", async (req: Request) => {
  let tenantId: string;
  if (req.headers.get("authorization")) {
    const a = await authenticateRequest(req, services().db, apiSettings().ratePerMinute);
    if (!a.ok) return a.response;
    tenantId = a.caller.tenantId;
  } else {
    const session = await auth();
    if (!session?.user || !can(session.user.role, "view_funnel")) return errorResponse(401, "UNAUTHENTICATED", "Sign in, or send an API key.", {}, { "www-authenticate": 'Bearer realm="aam"' });
    tenantId = session.user.tenantId;
  }
  const namespace = new URL(req.url).searchParams.get("namespace") ?? "autonomy";
  if (!NAMESPACE_RE.test(namespace)) return errorResponse(422, "VALIDATION_FAILED", "namespace is not a valid namespace name.", { issues: [{ path: "namespace", message: "must be lower-case letters, digits, '-' or '_'" }] });
  return json(await getFunnel(services().db, tenantId, namespace, { defaultTarget: apiSettings().sloTarget }));
});

export const POST = methodNotAllowed(["GET"]);
export const PUT = POST;
export const PATCH = POST;
export const DELETE = POST;
