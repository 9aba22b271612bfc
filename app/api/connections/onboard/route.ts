import { apiHandler, authenticateRequest, errorResponse, json, MAX_BODY_BYTES, methodNotAllowed, readJsonBody } from "@/server/http/respond";
import { apiSettings, services, submitDeps } from "@/server/http/services";
import { parseConnectionIntent } from "@/server/onboarding/intent-admission";
import { submitIntent } from "@/server/onboarding/submit-intent";

export const dynamic = "force-dynamic";

/** `?async=`: answer 202 at once (1, true) or wait up to the time budget (0, false, or no parameter). */
const ASYNC_VALUES = new Map([["1", true], ["true", true], ["0", false], ["false", false]]);

export const POST = apiHandler("POST /api/connections/onboard", async (req: Request) => {
  const settings = apiSettings();
  const auth = await authenticateRequest(req, services().db, settings.ratePerMinute);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(req, MAX_BODY_BYTES);
  if (!body.ok) return body.response;
  // shape limits, schema and the source type's typed config: nothing is written for an invalid intent
  const parsed = parseConnectionIntent(body.value);
  if (!parsed.ok) return errorResponse(422, "VALIDATION_FAILED", "The request body is not a valid connection intent.", { issues: parsed.issues });
  const rawAsync = new URL(req.url).searchParams.get("async");
  const wantsAsync = rawAsync === null ? false : ASYNC_VALUES.get(rawAsync);
  if (wantsAsync === undefined) {
    // a typo ("yes", "TRUE") would otherwise wait out the whole time budget the caller meant to skip
    const message = `async must be one of ${[...ASYNC_VALUES.keys()].join(", ")}.`;
    return errorResponse(422, "VALIDATION_FAILED", message, { issues: [{ path: "async", message }] });
  }
  const out = await submitIntent(submitDeps(), auth.caller.tenantId, parsed.intent, { budgetMs: settings.budgetMs, async: wantsAsync });
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
});

export const GET = methodNotAllowed(["POST"]);
export const PUT = GET;
export const PATCH = GET;
export const DELETE = GET;
