import { authenticateRequest, errorResponse, json, MAX_BODY_BYTES, readJsonBody, validationError } from "@/server/http/respond";
import { apiSettings, services, submitDeps } from "@/server/http/services";
import { ConnectionIntentSchema } from "@/server/onboarding/schemas";
import { submitIntent } from "@/server/onboarding/submit-intent";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  const settings = apiSettings();
  const auth = await authenticateRequest(req, services().db, settings.ratePerMinute);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(req, MAX_BODY_BYTES);
  if (!body.ok) return body.response;
  const parsed = ConnectionIntentSchema.safeParse(body.value);
  if (!parsed.success) return validationError(parsed.error);
  const wantsAsync = ["1", "true"].includes(new URL(req.url).searchParams.get("async") ?? "");
  const out = await submitIntent(submitDeps(), auth.caller.tenantId, parsed.data, { budgetMs: settings.budgetMs, async: wantsAsync });
  switch (out.kind) {
    case "refused":
      return errorResponse(403, out.code, out.message, { issues: [{ path: out.path, message: out.message }] });
    case "unsupported":
      return errorResponse(409, "UNSUPPORTED", out.result.message, { connection_id: out.result.connection_id });
    case "accepted":
      return json(out.result, 202, { location: out.result.status_url! });
    case "final":
      return json(out.result, 200);
  }
}
