import { z } from "zod";
import { authenticateRequest, errorResponse, json } from "@/server/http/respond";
import { apiSettings, services } from "@/server/http/services";
import { viewConnection } from "@/server/onboarding/submit-intent";

export const dynamic = "force-dynamic";

export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const auth = await authenticateRequest(req, services().db, apiSettings().ratePerMinute);
  if (!auth.ok) return auth.response;
  const { id } = await params;
  if (!z.uuid().safeParse(id).success) return errorResponse(404, "NOT_FOUND", "No connection has this id.");
  const view = await viewConnection(services().db, auth.caller.tenantId, id);
  return view ? json(view) : errorResponse(404, "NOT_FOUND", "No connection has this id.");
}
