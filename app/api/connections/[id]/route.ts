import { z } from "zod";
import { apiHandler, authenticateRequest, errorResponse, json, methodNotAllowed } from "@/server/http/respond";
import { apiSettings, services } from "@/server/http/services";
import { decodeEventCursor, EVENTS_PAGE_MAX } from "@/server/onboarding/connection-repository";
import { viewConnection } from "@/server/onboarding/submit-intent";

export const dynamic = "force-dynamic";

export const GET = apiHandler("GET /api/connections/{id}", async (req: Request, { params }: { params: Promise<{ id: string }> }) => {
  const auth = await authenticateRequest(req, services().db, apiSettings().ratePerMinute);
  if (!auth.ok) return auth.response;
  const { id } = await params;
  if (!z.uuid().safeParse(id).success) return errorResponse(404, "NOT_FOUND", "No connection has this id.");
  // the event history is paginated: the latest events_limit events, older ones through events_before
  const q = new URL(req.url).searchParams;
  const rawLimit = q.get("events_limit");
  // digits only: Number() would also take "1e2", "0x10" and " 5"
  const limit = rawLimit === null ? undefined : /^\d{1,3}$/.test(rawLimit) ? Number(rawLimit) : NaN;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= EVENTS_PAGE_MAX)) {
    const message = `events_limit must be a whole number from 1 to ${EVENTS_PAGE_MAX}.`;
    return errorResponse(422, "VALIDATION_FAILED", message, { issues: [{ path: "events_limit", message }] });
  }
  const rawBefore = q.get("events_before");
  const before = rawBefore === null ? null : decodeEventCursor(rawBefore);
  if (rawBefore !== null && !before) {
    const message = "events_before is not a cursor this API gave out.";
    return errorResponse(422, "VALIDATION_FAILED", message, { issues: [{ path: "events_before", message }] });
  }
  const view = await viewConnection(services().db, auth.caller.tenantId, id, { limit, before });
  return view ? json(view) : errorResponse(404, "NOT_FOUND", "No connection has this id.");
});

export const POST = methodNotAllowed(["GET"]);
export const PUT = POST;
export const PATCH = POST;
export const DELETE = POST;
