/** A connection of `sourceType` waiting for admin consent (AWAITING_CREDENTIALS, `consent:` locator), for OAuth tests. */
import { randomBytes } from "node:crypto";
import type { Db } from "../../server/db/client";
import { admitIntent } from "../../server/onboarding/pipeline";
import { ConnectionIntentSchema } from "../../server/onboarding/schemas";

export async function waitingConnection(db: Db, tenantId: string, sourceType: string, config: Record<string, unknown>): Promise<string> {
  const intent = ConnectionIntentSchema.parse({
    source_type: sourceType,
    resource_ids: [`res-${randomBytes(3).toString("hex")}`],
    scopes_mode: "safe_readonly",
    credential_locator: `consent:${sourceType}`,
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
    owner: { user: "eng@example.com", confidence: 0.9, why: "owner" },
    config,
  });
  const { id } = await admitIntent(db, tenantId, intent);
  await db.connection.update({ where: { id }, data: { status: "AWAITING_CREDENTIALS" } });
  return id;
}
