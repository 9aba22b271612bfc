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

/** Past this many matches a searched list says "more than 50,000" instead of counting every match. */
export const TOTAL_CAP = 50_000;

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

const ALL_STATUSES: readonly Status[] = ["PENDING", "ACTIVE", "AWAITING_CREDENTIALS", "NETWORK_BLOCKED", "UNSUPPORTED", "HEALING", "ERROR", "NOT_SANCTIONED"];
/**
 * Read the matches whole (through the filters' own indexes) and sort them, or walk each status's
 * sort index? Reading costs about the number of matches; a walk to the page's end costs about
 * (offset + page) × rows / matches (the rows it skips). Reading wins while
 * matches² ≤ (offset + page) × rows, and always below 2,000 matches.
 */
export function readMatchesWhole(matches: number, rowsInNamespace: number, pageEnd: number, cap = TOTAL_CAP): boolean {
  return matches <= cap && (matches <= 2_000 || matches * matches <= pageEnd * Math.max(rowsInNamespace, matches));
}

const SORT_SQL: Record<SortKey, Prisma.Sql> = {
  updatedAt: Prisma.sql`updated_at`,
  firstReceivedAt: Prisma.sql`first_received_at`,
  sourceType: Prisma.sql`source_type`,
  status: Prisma.sql`status`,
  riskLevel: Prisma.sql`risk_level`,
  latencyMs: Prisma.sql`latency_ms`,
};

/** `ORDER BY` of a sort: the column, then the tie-breakers, all in the sort's direction (one index walk, forwards or backwards). */
function orderBy(q: ListQuery): Prisma.Sql {
  const dir = q.dir === "asc" ? Prisma.sql`ASC` : Prisma.sql`DESC`;
  if (q.sort === "sourceType") return Prisma.sql`ORDER BY source_type ${dir}, resource_key ${dir}, id ${dir}`;
  return Prisma.sql`ORDER BY ${SORT_SQL[q.sort]} ${dir}, id ${dir}`;
}

/** `text` as a literal ILIKE substring pattern (its %, _ and \ match themselves). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, "\\$&")}%`;

/** The list's filters but the status, as SQL conditions (every one served by an index: migrations 20261201080000, 20261201091000). */
async function filterSql(db: Db, tenantId: string, q: ListQuery): Promise<Prisma.Sql[]> {
  const parts: Prisma.Sql[] = [Prisma.sql`tenant_id = ${tenantId}::uuid`, Prisma.sql`namespace = ${q.namespace}`];
  if (q.sourceType) parts.push(Prisma.sql`source_type = ${q.sourceType}`);
  if (q.risk) parts.push(Prisma.sql`risk_level = ${q.risk}::"RiskLevel"`);
  if (q.owner) parts.push(Prisma.sql`owner_user ILIKE ${containing(q.owner)}`);
  if (q.q) {
    // the source types that contain the text, as an IN list on the natural key (a handful of index probes, not an ILIKE per row)
    const needle = q.q.toLowerCase();
    const types = (await distinctSourceTypes(db, tenantId, q.namespace)).filter((t) => t.toLowerCase().includes(needle));
    parts.push(
      Prisma.sql`(${types.length ? Prisma.sql`source_type = ANY (${types}::text[]) OR ` : Prisma.empty}status_reason ILIKE ${containing(q.q)} OR resource_ids @> ARRAY[${q.q}]::text[] OR intent_id = ${q.q})`,
    );
  }
  return parts;
}

const LIST_COLUMNS = Prisma.sql`id, source_type, resource_ids, status, status_reason, risk_level, owner_user, first_sync_rows, latency_ms, first_received_at, updated_at`;
type ListSqlRow = {
  id: string;
  source_type: string;
  resource_ids: string[];
  status: Status;
  status_reason: string | null;
  risk_level: "low" | "med" | "high";
  owner_user: string | null;
  first_sync_rows: number | null;
  latency_ms: number | null;
  first_received_at: Date;
  updated_at: Date;
};

/**
 * One page of the list, planned so that it stays an index walk or a small sort at a million rows
 * (issue 13 item 5):
 * - the total: exact from the trigger-kept counts when only statuses filter; otherwise counted up
 *   to TOTAL_CAP and, past it, said to be "more than";
 * - few matches (≤ SPARSE_MAX): the matching rows are found through the filters' own indexes
 *   (trigram, GIN, status) and sorted — never a walk of a sort index that skips past most rows;
 * - many matches: one branch per status, each walking its (tenant, namespace, status, sort, id)
 *   index in order for at most offset + page rows, merged — so a list of statuses sorted by
 *   status, or a status whose rows sit at the end of a sort (latency of non-ACTIVE rows), are
 *   still index walks.
 */
export async function listConnections(db: Db, tenantId: string, q: ListQuery, opts: { cap?: number } = {}): Promise<{ rows: ConnectionListRow[]; total: number; totalCapped: boolean }> {
  const cap = opts.cap ?? TOTAL_CAP;
  const searched = Boolean(q.sourceType || q.risk || q.owner || q.q);
  const statuses = q.status?.length ? ALL_STATUSES.filter((s) => q.status!.includes(s)) : ALL_STATUSES;
  const filters = await filterSql(db, tenantId, q);
  const where = (status: Prisma.Sql) => Prisma.join([...filters, status], " AND ");
  const anyStatus = q.status?.length ? Prisma.sql`status::text = ANY (${[...statuses]}::text[])` : Prisma.sql`TRUE`;
  let total: number;
  if (searched) {
    const [row] = await db.$queryRaw<{ n: bigint }[]>`SELECT count(*)::bigint AS n FROM (SELECT 1 FROM connections WHERE ${where(anyStatus)} LIMIT ${cap + 1}) m`;
    total = Number(row?.n ?? 0);
  } else {
    total = await countFromCounts(db, tenantId, q.namespace, q.status);
  }
  const offset = (q.page - 1) * q.pageSize;
  let rows: ListSqlRow[] = [];
  // (past the cap of a search there may be more pages than counted)
  if (offset < total || (searched && total > cap)) {
    const rowsInNamespace = searched || q.status?.length ? await countFromCounts(db, tenantId, q.namespace) : total;
    if (readMatchesWhole(total, rowsInNamespace, offset + q.pageSize, cap)) {
      // OFFSET 0 keeps the matching set its own plan (the filters' indexes), never a sort-index walk
      rows = await db.$queryRaw<ListSqlRow[]>`
        SELECT ${Prisma.raw("id, source_type, resource_ids, status, status_reason, risk_level, owner_user, first_sync_rows, latency_ms, first_received_at, updated_at")}
        FROM (SELECT ${LIST_COLUMNS}, resource_key FROM connections WHERE ${where(anyStatus)} OFFSET 0) matches
        ${orderBy(q)} OFFSET ${offset} LIMIT ${q.pageSize}`;
    } else {
      const k = offset + q.pageSize;
      const branches = statuses.map((s) => Prisma.sql`(SELECT ${LIST_COLUMNS}, resource_key FROM connections WHERE ${where(Prisma.sql`status = ${s}::"ConnectionStatus"`)} ${orderBy(q)} LIMIT ${k})`);
      rows = await db.$queryRaw<ListSqlRow[]>`
        SELECT ${Prisma.raw("id, source_type, resource_ids, status, status_reason, risk_level, owner_user, first_sync_rows, latency_ms, first_received_at, updated_at")}
        FROM (${Prisma.join(branches, " UNION ALL ")}) page
        ${orderBy({ ...q, sort: q.sort })} OFFSET ${offset} LIMIT ${q.pageSize}`;
    }
  }
  return {
    total: searched ? Math.min(total, cap) : total,
    totalCapped: searched && total > cap,
    rows: rows.map((r) => ({
      id: r.id,
      sourceType: r.source_type,
      resourceIds: r.resource_ids,
      status: r.status,
      statusReason: r.status_reason,
      riskLevel: r.risk_level,
      owner: r.owner_user,
      firstSyncRows: r.first_sync_rows,
      latencyMs: r.latency_ms,
      firstReceivedAt: r.first_received_at,
      updatedAt: r.updated_at,
    })),
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
