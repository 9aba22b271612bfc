/**
 * First-start seed: the default tenant, an admin and an exec user, one AOD API key, settings for
 * the autonomy namespace, and the `demo` namespace's pre-existing connections (which autonomy
 * operations must never alter). Idempotent: a second run creates nothing and prints no secret.
 */
import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import type { Db } from "./client";
import { generateApiKey, keyFromValue } from "../auth/api-keys";
import { resourceKey } from "../onboarding/natural-key";
import demoConnections from "../../seeds/demo-connections.json" with { type: "json" };

export const DEFAULT_TENANT_SLUG = "default";

export type SeedInput = {
  adminEmail: string;
  adminPassword?: string;
  execEmail: string;
  execPassword?: string;
  apiKey?: string;
  sloTarget: number;
};

export type SeedResult = {
  created: boolean;
  tenantId: string;
  /** Only set when created now: shown once, never stored in clear. */
  admin?: { email: string; password: string };
  exec?: { email: string; password: string };
  apiKey?: string;
};

const SEED_LOCK = 7_251_002;

export async function seedDatabase(db: Db, input: SeedInput): Promise<SeedResult> {
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SEED_LOCK})`;
      const existing = await tx.tenant.findUnique({ where: { slug: DEFAULT_TENANT_SLUG }, select: { id: true } });
      if (existing) return { created: false, tenantId: existing.id };

      const tenant = await tx.tenant.create({ data: { slug: DEFAULT_TENANT_SLUG, name: "Default tenant" }, select: { id: true } });
      const adminPassword = input.adminPassword ?? randomBytes(9).toString("base64url");
      const execPassword = input.execPassword ?? randomBytes(9).toString("base64url");
      await tx.user.createMany({
        data: [
          { tenantId: tenant.id, email: input.adminEmail.toLowerCase(), name: "Admin", role: "admin", passwordHash: await bcrypt.hash(adminPassword, 10) },
          { tenantId: tenant.id, email: input.execEmail.toLowerCase(), name: "Exec", role: "exec", passwordHash: await bcrypt.hash(execPassword, 10) },
        ],
      });
      const key = input.apiKey ? keyFromValue(input.apiKey) : generateApiKey();
      await tx.apiKey.create({ data: { tenantId: tenant.id, name: "AOD (seeded)", prefix: key.prefix, hash: key.hash } });
      await tx.setting.createMany({
        data: [
          { tenantId: tenant.id, namespace: "autonomy", sloTarget: input.sloTarget },
          { tenantId: tenant.id, namespace: "demo", sloTarget: input.sloTarget },
        ],
      });
      const seededAt = new Date("2025-11-01T09:00:00Z");
      await tx.connection.createMany({
        data: demoConnections.map((c) => ({
          tenantId: tenant.id,
          namespace: "demo",
          sourceType: c.source_type,
          resourceIds: [...new Set(c.resource_ids)].sort(),
          resourceKey: resourceKey(c.resource_ids),
          status: c.status as "ACTIVE",
          statusReason: c.status_reason,
          reachable: c.status === "ACTIVE",
          scopesMode: "safe_readonly",
          credentialLocator: c.credential_locator,
          riskLevel: c.risk_level as "low",
          evidence: c.evidence,
          owner: c.owner,
          firstSyncRows: c.first_sync_rows,
          latencyMs: c.latency_ms,
          firstReceivedAt: seededAt,
          lastReceivedAt: seededAt,
          lastAttemptAt: seededAt,
          activatedAt: c.status === "ACTIVE" ? seededAt : null,
          createdAt: seededAt,
        })),
      });
      return {
        created: true,
        tenantId: tenant.id,
        admin: { email: input.adminEmail.toLowerCase(), password: adminPassword },
        exec: { email: input.execEmail.toLowerCase(), password: execPassword },
        apiKey: key.key,
      };
    },
    { timeout: 30_000 },
  );
}
