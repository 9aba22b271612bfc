import { getDb } from "@/server/db/client";
import { checkHealth } from "@/server/health";
import { methodNotAllowed } from "@/server/http/respond";

export const dynamic = "force-dynamic";

export async function GET() {
  const health = await checkHealth(getDb());
  return Response.json(health, { status: health.database.status === "up" ? 200 : 503, headers: { "cache-control": "no-store" } });
}

export const POST = methodNotAllowed(["GET"]);
export const PUT = POST;
export const PATCH = POST;
export const DELETE = POST;
