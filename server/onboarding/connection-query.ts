/**
 * Listing connections for the admin table: server-side filters, sort and pages that stay fast at
 * a million rows (every filter is on an indexed column; free text and owner on trigram indexes;
 * totals from the trigger-kept counts, or counted up to TOTAL_CAP for the search filters); the
 * connection page's view; the connections blocked on a destination that is not approved.
 */
import { getCatalogEntry } from "../connectors/catalog";
import type { BlockedDestination } from "../connectors/safe-mode/destinations";
import { Prisma, type Db } from "../db/client";
import type { Status } from "./schemas";
import { viewConnectionDetail } from "./submit-intent";

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

/** Past this many matches a filtered list says "10,000+" instead of counting every match. */
export const TOTAL_CAP = 10_000;

/**
 * The exact number of connections in a namespace, optionally of some statuses, from the
 * trigger-kept counts (migration 20261201090000): ~1 ms at any size, exact as a recount.
 */
async function countFromCounts(db: Db, tenantId: string, namespace: string, statuses?: Status[]): Promise<number> {
  const [row] = statuses?.length
    ? await db.$queryRaw<{ n: bigint | null }[]>`SELECT sum(n)::bigint AS n FROM connection_counts WHERE tenant_id = ${tenantId}::uuid AND namespace = ${namespace} AND status::text = ANY (${statuses}::text[])`
    : await db.$queryRaw<{ n: bigint | null }[]>`SELECT sum(n)::bigint AS n FROM connection_counts WHERE tenant_id = ${tenantId}::uuid AND namespace = ${namespace}`;
  return Number(row?.n ?? 0);
}

export async function listConnections(db: Db, tenantId: string, q: ListQuery): Promise<{ rows: ConnectionListRow[]; total: number; totalCapped: boolean }> {
  const where: Prisma.ConnectionWhereInput = { tenantId, namespace: q.namespace };
  if (q.status?.length) where.status = { in: q.status };
  if (q.sourceType) where.sourceType = q.sourceType;
  if (q.risk) where.riskLevel = q.risk;
  // the owner's user is a generated column with a trigram index (migration 20261201091000)
  if (q.owner) where.ownerUser = { contains: q.owner, mode: "insensitive" };
  if (q.q) {
    // the source types that contain the text, as an IN list on the natural key (a handful of index probes, not an ILIKE per row)
    const needle = q.q.toLowerCase();
    const types = (await distinctSourceTypes(db, tenantId, q.namespace)).filter((t) => t.toLowerCase().includes(needle));
    where.OR = [...(types.length ? [{ sourceType: { in: types } }] : []), { statusReason: { contains: q.q, mode: "insensitive" } }, { resourceIds: { has: q.q } }, { intentId: q.q }];
  }
  const [rows, total] = await Promise.all([
    db.connection.findMany({
      where,
      // the tie-breaker runs in the sort's direction, so every sort is one index walk, forwards or
      // backwards (indexes in prisma/migrations/20261201080000_list_indexes); source types sort on the
      // natural key (tenant, namespace, source_type, resource_key), which is unique
      orderBy: q.sort === "sourceType" ? [{ sourceType: q.dir }, { resourceKey: q.dir }, { id: q.dir }] : [{ [q.sort]: q.dir }, { id: q.dir }],
      skip: (q.page - 1) * q.pageSize,
      take: q.pageSize,
      select: { id: true, sourceType: true, resourceIds: true, status: true, statusReason: true, riskLevel: true, owner: true, firstSyncRows: true, latencyMs: true, firstReceivedAt: true, updatedAt: true },
    }),
    // no filter but statuses: exact, from the counts; otherwise counted up to the cap
    q.sourceType || q.risk || q.owner || q.q
      ? db.connection.count({ where, take: TOTAL_CAP + 1 })
      : countFromCounts(db, tenantId, q.namespace, q.status),
  ]);
  return {
    total: Math.min(total, TOTAL_CAP + (q.sourceType || q.risk || q.owner || q.q ? 0 : Number.POSITIVE_INFINITY)),
    totalCapped: total > TOTAL_CAP && Boolean(q.sourceType || q.risk || q.owner || q.q),
    rows: rows.map((r) => ({ ...r, status: r.status as Status, owner: typeof r.owner === "object" && r.owner && "user" in r.owner ? String((r.owner as { user: unknown }).user) : null })),
  };
}

export async function listNamespaces(db: Db, tenantId: string): Promise<{ namespace: string; count: number }[]> {
  // from the trigger-kept counts: a few hundred rows per namespace, whatever its size
  const rows = await db.$queryRaw<{ namespace: string; n: bigint }[]>`
    SELECT namespace, sum(n)::bigint AS n FROM connection_counts WHERE tenant_id = ${tenantId}::uuid GROUP BY namespace HAVING sum(n) <> 0 ORDER BY namespace`;
  const names = new Map(rows.map((r) => [r.namespace, Number(r.n)]));
  if (!names.has("autonomy")) names.set("autonomy", 0);
  return [...names.entries()].map(([namespace, count]) => ({ namespace, count })).sort((a, b) => a.namespace.localeCompare(b.namespace));
}

/**
 * The namespace's source types, in order: a skip scan over the natural key's index (one probe per
 * distinct type), so it costs the same at 1,000 or 1,000,000 connections.
 */
export async function distinctSourceTypes(db: Db, tenantId: string, namespace: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ source_type: string }[]>`
    WITH RECURSIVE t AS (
      (SELECT source_type FROM connections WHERE tenant_id = ${tenantId}::uuid AND namespace = ${namespace} ORDER BY source_type LIMIT 1)
      UNION ALL
      SELECT (SELECT c.source_type FROM connections c
              WHERE c.tenant_id = ${tenantId}::uuid AND c.namespace = ${namespace} AND c.source_type > t.source_type
              ORDER BY c.source_type LIMIT 1)
      FROM t WHERE t.source_type IS NOT NULL
    )
    SELECT source_type FROM t WHERE source_type IS NOT NULL`;
  return rows.map((r) => r.source_type);
}

/** A connection refused as "destination not approved", with what it tried to reach. */
export type BlockedConnection = { id: string; sourceType: string; destination: BlockedDestination };

function asBlockedDestination(v: unknown): BlockedDestination | null {
  if (!v || typeof v !== "object") return null;
  const d = v as Record<string, unknown>;
  if (d.kind === "host" && typeof d.host === "string" && typeof d.port === "number") return { kind: "host", host: d.host, port: d.port };
  if (d.kind === "folder" && typeof d.path === "string") return { kind: "folder", path: d.path };
  return null;
}

/**
 * The tenant's connections whose last attempt ended NETWORK_BLOCKED as "destination not
 * approved" (never the read-only demo namespace): what a newly approved rule may resume.
 */
export async function listBlockedOnDestination(db: Db, tenantId: string, limit = 5_000): Promise<BlockedConnection[]> {
  const rows = await db.connection.findMany({
    where: { tenantId, status: "NETWORK_BLOCKED", namespace: { not: "demo" }, blockedDestination: { not: Prisma.AnyNull } },
    select: { id: true, sourceType: true, blockedDestination: true },
    orderBy: { updatedAt: "desc" },
    take: limit,
  });
  return rows.flatMap((r) => {
    const destination = asBlockedDestination(r.blockedDestination);
    return destination ? [{ id: r.id, sourceType: r.sourceType, destination }] : [];
  });
}

/**
 * The connection page's view: the detail view plus, when it is blocked on a destination, what
 * it tried to reach (what "Approve this destination" would approve).
 */
export async function viewConnectionPage(db: Db, tenantId: string, id: string) {
  const [view, row] = await Promise.all([viewConnectionDetail(db, tenantId, id), db.connection.findFirst({ where: { id, tenantId }, select: { blockedDestination: true, status: true } })]);
  if (!view) return null;
  const blocked = row?.status === "NETWORK_BLOCKED" ? asBlockedDestination(row.blockedDestination) : null;
  // least privilege (issue 10 item 6): a vendor without a (complete) read-only grant is flagged, in words
  const entry = getCatalogEntry(view.source_type);
  const privilege = entry && entry.readOnlyGrant !== "full" ? { read_only_grant: entry.readOnlyGrant, note: entry.privilegeNote ?? "" } : null;
  return { ...view, blocked_destination: blocked, privilege };
}
