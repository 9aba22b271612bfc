/** Per-namespace settings (Safe Mode, caps, SLO target). */
import type { Db } from "../db/client";

export type NamespaceSettings = {
  namespace: string;
  safeMode: boolean;
  metricsEnabled: boolean;
  rateLimitPerMinute: number;
  maxSampleRecords: number;
  requestTimeoutMs: number;
  sloTarget: number;
};

const SELECT = { namespace: true, safeMode: true, metricsEnabled: true, rateLimitPerMinute: true, maxSampleRecords: true, requestTimeoutMs: true, sloTarget: true } as const;

export async function getSettings(db: Db, tenantId: string, namespace: string): Promise<NamespaceSettings | null> {
  return db.setting.findUnique({ where: { tenantId_namespace: { tenantId, namespace } }, select: SELECT });
}

export async function upsertSettings(db: Db, tenantId: string, namespace: string, values: Partial<Omit<NamespaceSettings, "namespace">>): Promise<NamespaceSettings> {
  return db.setting.upsert({
    where: { tenantId_namespace: { tenantId, namespace } },
    create: { tenantId, namespace, ...values },
    update: values,
    select: SELECT,
  });
}
