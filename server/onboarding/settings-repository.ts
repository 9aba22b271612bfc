/** Per-namespace settings (Safe Mode, caps, SLO target) and the tenant-wide preview masking. */
import { rawPool, type Db } from "../db/client";

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

/** Tenant-wide privacy setting: mask emails, phones and card-like numbers in stored previews (default on). */
export async function previewMaskingFor(db: Pick<Db, "tenant">, tenantId: string): Promise<boolean> {
  // read on every onboarding attempt: through the client's plain pg pool when it has one (server/db/client.ts rawPool)
  const pool = rawPool(db);
  if (pool) {
    const r = await pool.query<{ preview_masking: boolean }>({ name: "aam_preview_masking", text: "SELECT preview_masking FROM tenants WHERE id = $1::uuid", values: [tenantId] });
    return r.rows[0]?.preview_masking ?? true;
  }
  const row = await db.tenant.findUnique({ where: { id: tenantId }, select: { previewMasking: true } });
  // an unknown tenant cannot switch masking off
  return row?.previewMasking ?? true;
}

export async function setPreviewMasking(db: Pick<Db, "tenant">, tenantId: string, on: boolean): Promise<boolean> {
  const row = await db.tenant.update({ where: { id: tenantId }, data: { previewMasking: on }, select: { previewMasking: true } });
  return row.previewMasking;
}

/** Whether a secret bound nowhere waits for an admin's approval of its first destination (default off: its first use binds it). */
export async function secretBindingApprovalFor(db: Pick<Db, "tenant">, tenantId: string): Promise<boolean> {
  const row = await db.tenant.findUnique({ where: { id: tenantId }, select: { secretBindingApproval: true } });
  return row?.secretBindingApproval ?? false;
}

export async function setSecretBindingApproval(db: Pick<Db, "tenant">, tenantId: string, on: boolean): Promise<boolean> {
  const row = await db.tenant.update({ where: { id: tenantId }, data: { secretBindingApproval: on }, select: { secretBindingApproval: true } });
  return row.secretBindingApproval;
}
