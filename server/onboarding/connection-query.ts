/**
 * Listing connections for the admin table: server-side filters, sort and pages that stay fast at
 * 100,000 rows (every filter is on an indexed column or a bounded ILIKE over one namespace).
 */
import type { Db } from "../db/client";
import type { Prisma } from "../db/client";
import type { Status } from "./schemas";

export const SORTABLE = ["updatedAt", "firstReceivedAt", "sourceType", "status", "riskLevel", "latencyMs"] as const;
export type SortKey = (typeof SORTABLE)[number];

export type ListQuery = {
  namespace: string;
  status?: Status[];
  sourceType?: string;
  risk?: "low" | "med" | "high";
  owner?: string;
  q?: string;
  sort: SortKey;
  dir: "asc" | "desc";
  page: number;
  pageSize: number;
};

export type ConnectionListRow = {
  id: string;
  sourceType: string;
  resourceIds: string[];
  status: Status;
  statusReason: string | null;
  riskLevel: "low" | "med" | "high";
  owner: string | null;
  firstSyncRows: number | null;
  latencyMs: number | null;
  firstReceivedAt: Date;
  updatedAt: Date;
};

export async function listConnections(db: Db, tenantId: string, q: ListQuery): Promise<{ rows: ConnectionListRow[]; total: number }> {
  const where: Prisma.ConnectionWhereInput = { tenantId, namespace: q.namespace };
  if (q.status?.length) where.status = { in: q.status };
  if (q.sourceType) where.sourceType = q.sourceType;
  if (q.risk) where.riskLevel = q.risk;
  if (q.owner) where.owner = { path: ["user"], string_contains: q.owner };
  if (q.q) {
    where.OR = [{ sourceType: { contains: q.q, mode: "insensitive" } }, { statusReason: { contains: q.q, mode: "insensitive" } }, { resourceIds: { has: q.q } }, { intentId: q.q }];
  }
  const [rows, total] = await Promise.all([
    db.connection.findMany({
      where,
      orderBy: [{ [q.sort]: q.dir }, { id: "asc" }],
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
      select: { id: true, sourceType: true, resourceIds: true, status: true, statusReason: true, riskLevel: true, owner: true, firstSyncRows: true, latencyMs: true, firstReceivedAt: true, updatedAt: true },
    }),
    db.connection.count({ where }),
  ]);
  return {
    total,
    rows: rows.map((r) => ({ ...r, status: r.status as Status, owner: typeof r.owner === "object" && r.owner && "user" in r.owner ? String((r.owner as { user: unknown }).user) : null })),
  };
}

export async function listNamespaces(db: Db, tenantId: string): Promise<{ namespace: string; count: number }[]> {
  const rows = await db.connection.groupBy({ by: ["namespace"], where: { tenantId }, _count: { _all: true }, orderBy: { namespace: "asc" } });
  const names = new Map(rows.map((r) => [r.namespace, r._count._all]));
  if (!names.has("autonomy")) names.set("autonomy", 0);
  return [...names.entries()].map(([namespace, count]) => ({ namespace, count })).sort((a, b) => a.namespace.localeCompare(b.namespace));
}

export async function distinctSourceTypes(db: Db, tenantId: string, namespace: string): Promise<string[]> {
  const rows = await db.connection.groupBy({ by: ["sourceType"], where: { tenantId, namespace }, orderBy: { sourceType: "asc" } });
  return rows.map((r) => r.sourceType);
}
