import { authenticateRequest, errorResponse, json, MAX_BATCH_BODY_BYTES, readJsonBody } from "@/server/http/respond";
import { apiSettings, services, submitDeps } from "@/server/http/services";
import { BatchRequestSchema, issuesOf } from "@/server/onboarding/schemas";
import { submitBatch } from "@/server/onboarding/submit-intent";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
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
  if (out.accepted === 0) return errorResponse(422, "VALIDATION_FAILED", "No intent in the batch is valid; see items.", { issues: out.items.flatMap((i) => ("error" in i ? (i.error.issues ?? []).map((x) => ({ path: `intents.${i.index}.${x.path}`, message: x.message })) : [])) });
  return json(out, 202);
}
