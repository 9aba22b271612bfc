import { getDb } from "@/server/db/client";
import { checkHealth } from "@/server/health";

export const dynamic = "force-dynamic";

export async function GET() {
  const health = await checkHealth(getDb());
  return Response.json(health, { status: health.database.status === "up" ? 200 : 503, headers: { "cache-control": "no-store" } });
}
