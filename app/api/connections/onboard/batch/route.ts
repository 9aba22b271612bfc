import { apiHandler, authenticateRequest, errorResponse, json, MAX_BATCH_BODY_BYTES, methodNotAllowed, readJsonBody } from "@/server/http/respond";
import { apiSettings, services, submitDeps } from "@/server/http/services";
import { BatchRequestSchema, issuesOf } from "@/server/onboarding/schemas";
import { submitBatch } from "@/server/onboarding/submit-intent";

export const dynamic = "force-dynamic";

export const POST = apiHandler("POST /api/connections/onboard/batch", async (req: Request) => {
  const auth = await authenticateRequest(req, services().db, apiSettings().ratePerMinute);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(req, MAX_BATCH_BODY_BYTES);
  if (!body.ok) return body.response;
  const parsed = BatchRequestSchema.safeParse(body.value);
  if (!parsed.success) {
    const tooMany = parsed.error.issues.some((i) => i.code === "too_big");
    return errorResponse(tooMany ? 413 : 422, tooMany ? "BATCH_TOO_LARGE" : "VALIDATION_FAILED", tooMany ? "A batch holds at most 1,000 intents." : "Send {\"intents\": [ … ]}.", { issues: issuesOf(parsed.error) });
  }
  const out = await submitBatch(submitDeps(), auth.caller.tenantId, parsed.data.intents);
  if (out.accepted === 0) {
    // each item keeps its own refusal (NAMESPACE_READ_ONLY stays that), as in a batch where another item was accepted
    const issues = out.items.flatMap((i) => ("error" in i ? (i.error.issues ?? []).map((x) => ({ path: `intents.${i.index}.${x.path}`, message: x.message })) : []));
    return json({ error: { code: "VALIDATION_FAILED", message: "No intent in the batch was accepted; each item says why.", issues, items: out.items } }, 422);
  }
  return json(out, 202);
});

export const GET = methodNotAllowed(["POST"]);
export const PUT = GET;
export const PATCH = GET;
export const DELETE = GET;
