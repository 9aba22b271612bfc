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
/** The same for a search by owner or free text, whose count reads each match's row. */
export const SEARCH_CAP = 10_000;

/**
 * The exact number of connections in a namespace per status, from the trigger-kept counts
 * (migration 20261201090000): ~1 ms at any size, exact as a recount.
 */
async function countsByStatus(db: Db, tenantId: string, namespace: string): Promise<Map<Status, number>> {
  const rows = await db.$queryRaw<{ status: Status; n: bigint }[]>`
    SELECT status, sum(n)::bigint AS n FROM connection_counts WHERE tenant_id = ${tenantId}::uuid AND namespace = ${namespace} GROUP BY status`;
  return new Map(rows.map((r) => [r.status, Number(r.n)]));
}

const ALL_STATUSES: readonly Status[] = ["PENDING", "ACTIVE", "AWAITING_CREDENTIALS", "NETWORK_BLOCKED", "UNSUPPORTED", "HEALING", "ERROR", "NOT_SANCTIONED"];
/**
 * Read the matches whole (through the filters' own indexes) and sort them, or walk each status's
 * sort index? Reading costs about the number of matches; a walk to the page's end costs about
 * (offset + page) × rows / matches (the rows it skips). Reading wins while
 * matches² ≤ (offset + page) × rows, and always below 2,000 matches.
 */
/** How much cheaper a walk's index entry is than a table row read for its sort key (sqrt: matches are squared below). */
const INDEX_WALK_WEIGHT = Math.sqrt(30);

export function readMatchesWhole(matches: number, rowsInNamespace: number, pageEnd: number, cap = TOTAL_CAP): boolean {
  return matches <= cap && (matches <= 2_000 || matches * matches <= pageEnd * Math.max(rowsInNamespace, matches));
}

/** The columns each sort orders by, the last being the unique tie-breaker (all in the sort's index). */
const SORT_COLUMNS: Record<SortKey, string[]> = {
  updatedAt: ["updated_at", "id"],
  firstReceivedAt: ["first_received_at", "id"],
  sourceType: ["source_type", "resource_key", "id"],
  status: ["status", "id"],
  riskLevel: ["risk_level", "id"],
  latencyMs: ["latency_ms", "id"],
};

/** `ORDER BY` of a sort: the column, then the tie-breakers, all in the sort's direction (one index walk, forwards or backwards). */
function orderBy(q: ListQuery, table = ""): Prisma.Sql {
  const dir = q.dir === "asc" ? "ASC" : "DESC";
  return Prisma.raw(`ORDER BY ${SORT_COLUMNS[q.sort].map((c) => `${table}${c} ${dir}`).join(", ")}`);
}

/** `text` as a literal ILIKE substring pattern (its %, _ and \ match themselves). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, "\\$&")}%`;

/** A search pg_trgm can look up: a word of at least 3 letters or digits (else it has no trigram inside a word). */
const HAS_TRIGRAM_WORD = /[\p{L}\p{N}]{3}/u;

/**
 * The list's filters but the status, as SQL conditions (every one served by an index: migrations
 * 20261201080000, 20261201091000, 20261201110000). `within`: the conditions for that status
 * alone — the free text's reason match then goes through the status's own trigrams
 * (reason_tokens), whose posting lists hold only that status's rows.
 */
async function filterSql(db: Db, tenantId: string, q: ListQuery): Promise<(within?: Status) => Prisma.Sql[]> {
  const parts: Prisma.Sql[] = [Prisma.sql`tenant_id = ${tenantId}::uuid`, Prisma.sql`namespace = ${q.namespace}`];
  if (q.sourceType) parts.push(Prisma.sql`source_type = ${q.sourceType}`);
  if (q.risk) parts.push(Prisma.sql`risk_level = ${q.risk}::"RiskLevel"`);
  if (q.owner) parts.push(Prisma.sql`owner_user ILIKE ${containing(q.owner)}`);
  if (!q.q) return () => parts;
  const text = q.q;
  // the source types that contain the text, as an IN list on the natural key (a handful of index probes, not an ILIKE per row)
  const needle = text.toLowerCase();
  const types = (await distinctSourceTypes(db, tenantId, q.namespace)).filter((t) => t.toLowerCase().includes(needle));
  const byTokens = HAS_TRIGRAM_WORD.test(text);
  return (within) => {
    const reason =
      within && byTokens
        ? Prisma.sql`(reason_tokens @> connection_reason_probe(${within}::text, ${text}) AND status_reason ILIKE ${containing(text)})`
        : Prisma.sql`status_reason ILIKE ${containing(text)}`;
    return [
      ...parts,
      Prisma.sql`(${types.length ? Prisma.sql`source_type = ANY (${types}::text[]) OR ` : Prisma.empty}${reason} OR resource_ids @> ARRAY[${text}]::text[] OR intent_id = ${text})`,
    ];
  };
}

const LIST_COLUMNS_OF_C = ["id", "source_type", "resource_ids", "status", "status_reason", "risk_level", "owner_user", "first_sync_rows", "latency_ms", "first_received_at", "updated_at"].map((c) => `c.${c}`).join(", ");
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
 * One page of the list, planned so that it stays index walks or small sorts at a million rows
 * (issue 13 item 5):
 * - the total: exact from the trigger-kept counts when only statuses filter; otherwise counted,
 *   per status, up to TOTAL_CAP (SEARCH_CAP for owner and free text) and past it said to be
 *   "more than";
 * - one branch per status that has matches: its first offset + page rows in order, either by
 *   walking its (tenant, namespace, status, sort, id, source type, risk) index — source type and
 *   risk are tested inside the index — or, when it has few matches, by reading them whole through
 *   the filters' own indexes and sorting; the branches are merged;
 * - an owner or free-text search: one statement reads its matches (up to the cap) through its
 *   GIN indexes, counts them per status and, unless they are past the cap, sorts them and
 *   returns the page;
 * - a deferred join: the page's ids come first (index-only where the filters allow), then only
 *   the page's rows are read.
 */
export async function listConnections(db: Db, tenantId: string, q: ListQuery, opts: { cap?: number } = {}): Promise<{ rows: ConnectionListRow[]; total: number; totalCapped: boolean }> {
  const searched = Boolean(q.sourceType || q.risk || q.owner || q.q);
  // owner and free text are tested on the table's rows (a count reads each match): a lower cap
  const rowTested = Boolean(q.owner || q.q);
  const cap = opts.cap ?? (rowTested ? SEARCH_CAP : TOTAL_CAP);
  const statuses = q.status?.length ? ALL_STATUSES.filter((s) => q.status!.includes(s)) : ALL_STATUSES;
  const filters = await filterSql(db, tenantId, q);
  const where = (status: Prisma.Sql, within?: Status) => Prisma.join([...filters(within), status], " AND ");
  // the enum itself (not its text), and every status when none is chosen: the status-leading
  // indexes then serve source type and risk too (one range per status, inside the index). Not
  // for owner or free text with no status chosen: their GIN indexes would intersect every
  // status's posting list for nothing.
  const anyStatus = rowTested && !q.status?.length ? Prisma.sql`TRUE` : Prisma.sql`status = ANY (${[...statuses]}::"ConnectionStatus"[])`;
  const inNamespace = await countsByStatus(db, tenantId, q.namespace);
  const offset = (q.page - 1) * q.pageSize;
  const k = offset + q.pageSize;
  const keys = Prisma.raw(SORT_COLUMNS[q.sort].join(", "));
  // the matches per status: exact from the counts, or counted up to the cap (past it, those of the first cap + 1 matches)
  let matches: Map<Status, number>;
  /** the page, when the count's statement could return it (owner or free text within the cap) */
  let counted: ListSqlRow[] | undefined;
  if (rowTested) {
    // owner or free text: the count reads each match's row anyway, so the same statement sorts
    // those matches and returns the page — only when they are within the cap (past it, the
    // page's CTE is skipped: its one-time filter sees the cap + 1st match)
    const withStatus = Prisma.raw([...new Set(["status", ...SORT_COLUMNS[q.sort]])].join(", "));
    const out = await db.$queryRaw<(ListSqlRow & { count_status: Status | null; n: bigint | null; pos: bigint | null })[]>`
      WITH m AS MATERIALIZED (SELECT ${withStatus} FROM connections WHERE ${where(anyStatus)} LIMIT ${cap + 1}),
      page AS (SELECT ${keys}, row_number() OVER (${orderBy(q)}) AS pos FROM m
        WHERE NOT EXISTS (SELECT 1 FROM m OFFSET ${cap}) ${orderBy(q)} OFFSET ${offset} LIMIT ${q.pageSize})
      SELECT NULL::"ConnectionStatus" AS count_status, NULL::bigint AS n, page.pos, ${Prisma.raw(LIST_COLUMNS_OF_C)}
      FROM page JOIN connections c ON c.id = page.id AND c.tenant_id = ${tenantId}::uuid
      UNION ALL
      SELECT status, count(*)::bigint, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM m GROUP BY status`;
    matches = new Map(out.filter((r) => r.count_status !== null).map((r) => [r.count_status!, Number(r.n)]));
    counted = out.filter((r) => r.count_status === null).sort((a, b) => Number(a.pos) - Number(b.pos));
  } else if (searched) {
    const rows = await db.$queryRaw<{ status: Status; n: bigint }[]>`
      SELECT status, count(*)::bigint AS n FROM (SELECT status FROM connections WHERE ${where(anyStatus)} LIMIT ${cap + 1}) m GROUP BY status`;
    matches = new Map(rows.map((r) => [r.status, Number(r.n)]));
  } else {
    matches = new Map(statuses.map((s) => [s, inNamespace.get(s) ?? 0]));
  }
  const total = [...matches.values()].reduce((a, n) => a + n, 0);
  const capped = searched && total > cap;
  let rows: ListSqlRow[] = [];
  if (counted && !capped) {
    // owner or free text within the cap: the count's statement returned the page
    rows = counted;
  } else if (offset < total || capped) {
    // (past the cap of a search there may be more pages than counted)
    // one branch per status that has matches (or may have, past the cap): its first k in order,
    // by walking its sort index or by reading its matches whole, whichever costs less.
    // Past the cap the counts are of the first cap + 1 matches in the count's scan order. For an
    // owner or free-text search that is the table's order (a GIN bitmap), so a status with none
    // of them has few matches: read them whole (its GIN key finds them); the others are dense,
    // walk them. A search on source type and risk only is counted in index order, and its walks
    // test both filters inside the index: walk every status.
    const branches = statuses.flatMap((s) => {
      const m = matches.get(s) ?? 0;
      if (m === 0 && !capped) return [];
      // (a walk that tests source type and risk inside the index reads index entries, ~30× cheaper
      // than the table rows a read of the matches fetches for their sort key: weigh them so)
      const whole = capped ? rowTested && m === 0 : readMatchesWhole(m * INDEX_WALK_WEIGHT, inNamespace.get(s) ?? 0, k, Number.POSITIVE_INFINITY);
      // a status's few matches are read through its own trigrams (a walk tests the text on each row it reads)
      const mine = where(Prisma.sql`status = ${s}::"ConnectionStatus"`, whole ? s : undefined);
      return whole
        ? // OFFSET 0 keeps the matching set its own plan (the filters' indexes), never a sort-index walk
          [Prisma.sql`(SELECT ${keys} FROM (SELECT ${keys} FROM connections WHERE ${mine} OFFSET 0) matches ${orderBy(q)} LIMIT ${k})`]
        : [Prisma.sql`(SELECT ${keys} FROM connections WHERE ${mine} ${orderBy(q)} LIMIT ${k})`];
    });
    if (branches.length) {
      // a deferred join: the page's ids (and sort keys) first, from the indexes alone where the
      // filters allow (index-only scans), then only the page's rows are read
      rows = await db.$queryRaw<ListSqlRow[]>`
        SELECT ${Prisma.raw(LIST_COLUMNS_OF_C)}
        FROM (SELECT ${keys} FROM (${Prisma.join(branches, " UNION ALL ")}) branches ${orderBy(q)} OFFSET ${offset} LIMIT ${q.pageSize}) page
        JOIN connections c ON c.id = page.id AND c.tenant_id = ${tenantId}::uuid
        ${orderBy(q, "page.")}`;
    }
  }
  return {
    total: capped ? cap : total,
    totalCapped: capped,
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
