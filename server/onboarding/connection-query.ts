/**
 * Listing connections for the admin table: server-side filters, sort and pages that stay fast at
 * a million rows (every filter is on an indexed column; free text and owner on trigram indexes;
 * totals from the trigger-kept counts, or counted up to TOTAL_CAP for the search filters); the
 * connection page's view; the connections blocked on a destination that is not approved.
 */
import { z } from "zod";
import { getCatalogEntry } from "../connectors/catalog";
import type { BlockedDestination } from "../connectors/safe-mode/destinations";
import { Prisma, type Db } from "../db/client";
import { cleanString, type Status } from "./schemas";
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
  /**
   * The page after this row (keyset paging: the page's "Next"): a seek in the sort's index from
   * the row's sort key, whatever the page's depth, instead of skipping `(page - 1) × pageSize`
   * rows. With it, `page` is not read. From `nextCursor` of the page before (parseCursor).
   */
  after?: ListCursor;
};

/** Where a page ends in its sort: the last row's sort key and id (a keyset cursor). */
export type ListCursor = { sort: SortKey; dir: "asc" | "desc"; key: (string | number | null)[]; id: string };

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
 * The same for a search by owner or free text, whose count reads each match's row: to say "more
 * than N" it must find N + 1 matching rows, ~2 µs each on a 2-core machine (10,000 took ~110 ms
 * at a million connections, past the page's 100 ms).
 */
export const SEARCH_CAP = 2_000;

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

/** How each sort key's values are cast when a cursor's are compared with the columns (the id last). */
const KEY_CASTS: Record<string, string> = { updated_at: "timestamptz", first_received_at: "timestamptz", status: '"ConnectionStatus"', risk_level: '"RiskLevel"', latency_ms: "float8" };

/** The sort key values a cursor holds for a row, one per SORT_COLUMNS entry but the id. */
function keyOfRow(sort: SortKey, r: ListSqlRow): (string | number | null)[] {
  switch (sort) {
    case "updatedAt":
      return [r.updated_at.toISOString()];
    case "firstReceivedAt":
      return [r.first_received_at.toISOString()];
    case "sourceType":
      return [r.source_type, r.resource_key];
    case "status":
      return [r.status];
    case "riskLevel":
      return [r.risk_level];
    case "latencyMs":
      return [r.latency_ms];
  }
}

/** Sort columns a branch's filters fix to one value (an equality). */
type Fixed = { sourceType?: string; risk?: string };

/** A cursor as the page hands it to the browser: opaque, URL-safe. */
export function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify([c.sort, c.dir, ...c.key, c.id])).toString("base64url");
}

const Iso = z.iso.datetime({ offset: true });
/** Each sort's key as a cursor may hold it (the cursor comes back from the browser: untrusted, checked like any input). */
const CURSOR_KEYS: Record<SortKey, z.ZodType<(string | number | null)[]>> = {
  updatedAt: z.tuple([Iso]),
  firstReceivedAt: z.tuple([Iso]),
  sourceType: z.tuple([cleanString(64), cleanString(256)]),
  status: z.tuple([z.enum(ALL_STATUSES as [Status, ...Status[]])]),
  riskLevel: z.tuple([z.enum(["low", "med", "high"])]),
  latencyMs: z.tuple([z.number().finite().nullable()]),
};

/**
 * A cursor the browser sent back, for the page's sort: undefined when it is not one of ours or
 * belongs to another sort or direction (the caller answers 400 naming the field).
 */
export function parseCursor(text: string, sort: SortKey, dir: "asc" | "desc"): ListCursor | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts[0] !== sort || parts[1] !== dir) return undefined;
  const key = CURSOR_KEYS[sort].safeParse(parts.slice(2, -1));
  const id = z.uuid().safeParse(parts.at(-1));
  return key.success && id.success ? { sort, dir, key: key.data, id: id.data } : undefined;
}

/**
 * The rows after a cursor in its sort, as disjoint conditions on the sort index's columns (a
 * row comparison, which a walk of the index seeks to). Latency may be NULL, which PostgreSQL
 * sorts last going up and first going down, and a comparison with NULL is never true: the NULLs
 * that follow the cursor are a condition of their own (each condition is its own walk, merged).
 */
function afterCursor(c: ListCursor, fixed: Fixed = {}): Prisma.Sql[] {
  const cols = SORT_COLUMNS[c.sort];
  const op = c.dir === "asc" ? ">" : "<";
  const id = Prisma.sql`${c.id}::uuid`;
  const value = (v: string | number | null, col: string) => (KEY_CASTS[col] ? Prisma.sql`${v}::${Prisma.raw(KEY_CASTS[col]!)}` : Prisma.sql`${v}`);
  // a filter that fixes the sort's column (risk sorted by risk, a source type by source type):
  // the rows are past the cursor wholly, not at all, or by the rest of the key. Said as a
  // comparison of two constants, which PostgreSQL folds before planning (in its collation and
  // enum order), leaving a seek on the rest — a row comparison that starts at the fixed column
  // would walk every entry after the cursor's value to test the filter (90 ms at 1M for none)
  const pinned = c.sort === "sourceType" ? fixed.sourceType : c.sort === "riskLevel" ? fixed.risk : undefined;
  if (pinned !== undefined) {
    const [col, ...rest] = cols;
    const restVals = [...c.key.slice(1).map((v, i) => value(v, rest[i]!)), id];
    const o = Prisma.raw(op);
    return [Prisma.sql`(${value(pinned, col!)} ${o} ${value(c.key[0]!, col!)} OR (${value(pinned, col!)} = ${value(c.key[0]!, col!)} AND (${Prisma.raw(rest.join(", "))}) ${o} (${Prisma.join(restVals)})))`];
  }
  if (c.sort === "latencyMs") {
    const v = c.key[0] ?? null;
    if (v === null) return c.dir === "asc" ? [Prisma.sql`latency_ms IS NULL AND id > ${id}`] : [Prisma.sql`latency_ms IS NULL AND id < ${id}`, Prisma.sql`latency_ms IS NOT NULL`];
    const past = Prisma.sql`(latency_ms, id) ${Prisma.raw(op)} (${value(v, "latency_ms")}, ${id})`;
    return c.dir === "asc" ? [past, Prisma.sql`latency_ms IS NULL`] : [past];
  }
  const vals = [...c.key.map((v, i) => value(v, cols[i]!)), id];
  return [Prisma.sql`(${Prisma.raw(cols.join(", "))}) ${Prisma.raw(op)} (${Prisma.join(vals)})`];
}

/** `ORDER BY` of a sort: the column, then the tie-breakers, all in the sort's direction (one index walk, forwards or backwards). */
function orderBy(q: ListQuery, table = ""): Prisma.Sql {
  const dir = q.dir === "asc" ? "ASC" : "DESC";
  return Prisma.raw(`ORDER BY ${SORT_COLUMNS[q.sort].map((c) => `${table}${c} ${dir}`).join(", ")}`);
}

/** `text` as a literal ILIKE substring pattern (its %, _ and \\ match themselves). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, "\\$&")}%`;

/**
 * Conditions split by where a walk of a sort index tests them: inside the index (its columns:
 * tenant, namespace, status, the sort key, id, source type, risk) or on the table's row (owner,
 * free text).
 */
type Conds = { index: Prisma.Sql[]; row: Prisma.Sql[] };
const allOf = (c: Conds) => Prisma.join([...c.index, ...c.row], " AND ");

/**
 * The list's filters as SQL conditions (every one served by an index: migrations
 * 20261201080000, 20261201091000, 20261201110000).
 * - `base`: every filter but the status and the free text;
 * - `all`: every filter but the status;
 * - free text matches three disjoint ways, each with its own best plan: `byType`, the source
 *   types whose name contains the text (tested inside the sort indexes, which hold the source
 *   type: a walk reads index entries, not rows), and `rest(within)`, the others — the status text
 *   and exact intent and resource IDs — minus the source-type matches. With `within`, `rest` is
 *   for reading that status's few matches whole: the status text then goes through the status's
 *   own trigrams (reason_tokens), whose posting lists hold only that status's rows, and the status
 *   is only rechecked on the rows found (as text: were it the enum, the planner may AND in the
 *   (status, status_reason) index's entry for the status — a posting list of every row of it,
 *   20–30 ms at 1M — to save rechecks of a handful of rows).
 */
type Filters = {
  base: Conds;
  all: Conds;
  text?: { types: string[]; byType?: Prisma.Sql; rest: (within?: Status) => Conds };
};

/** A source type as a condition: one type an equality, so that an ordered index walk seeks it (an `= ANY` is tested on every entry). */
const ofTypes = (types: readonly string[]) => (types.length === 1 ? Prisma.sql`source_type = ${types[0]}` : Prisma.sql`source_type = ANY (${types}::text[])`);

async function filterSql(db: Db, tenantId: string, q: ListQuery): Promise<Filters> {
  const fixed: Prisma.Sql[] = [Prisma.sql`tenant_id = ${tenantId}::uuid`, Prisma.sql`namespace = ${q.namespace}`];
  if (q.sourceType) fixed.push(Prisma.sql`source_type = ${q.sourceType}`);
  if (q.risk) fixed.push(Prisma.sql`risk_level = ${q.risk}::"RiskLevel"`);
  const owner = q.owner ? [Prisma.sql`owner_user ILIKE ${containing(q.owner)}`] : [];
  const base: Conds = { index: fixed, row: owner };
  if (!q.q) return { base, all: base };
  const text = q.q;
  // the source types that contain the text, as an IN list (a handful of index probes, not an ILIKE per row)
  const needle = text.toLowerCase();
  // and whether the text has trigrams inside its words (a word of 3 characters, as PostgreSQL's
  // pg_trgm sees it): asked of the same SQL function the lookup uses, so the two never disagree
  const [allTypes, [probe]] = await Promise.all([
    distinctSourceTypes(db, tenantId, q.namespace),
    db.$queryRaw<{ inner: number }[]>`SELECT cardinality(connection_reason_probe('', ${text})) AS inner`,
  ]);
  const types = allTypes.filter((t) => t.toLowerCase().includes(needle));
  const byTokens = (probe?.inner ?? 0) > 0;
  const byType = types.length ? ofTypes(types) : undefined;
  const others = (within?: Status) => {
    // the status text only when the text has a word to look up (search-text.ts): else every row would be read
    const reason = !byTokens
      ? Prisma.empty
      : within !== undefined
        ? Prisma.sql`(reason_tokens @> connection_reason_probe(${within}::text, ${text}) AND status_reason ILIKE ${containing(text)}) OR `
        : Prisma.sql`status_reason ILIKE ${containing(text)} OR `;
    return Prisma.sql`(${reason}resource_ids @> ARRAY[${text}]::text[] OR intent_id = ${text})`;
  };
  return {
    base,
    all: { index: fixed, row: [...owner, byType ? Prisma.sql`(${byType} OR ${others()})` : others()] },
    text: {
      types,
      byType,
      rest: (within) => ({
        index: [...fixed, ...(byType ? [Prisma.sql`NOT (${byType})`] : [])],
        row: [...owner, others(within), ...(within === undefined ? [] : [Prisma.sql`status::text = ${within}`])],
      }),
    },
  };
}

const LIST_COLUMNS_OF_C = ["id", "source_type", "resource_key", "resource_ids", "status", "status_reason", "risk_level", "owner_user", "first_sync_rows", "latency_ms", "first_received_at", "updated_at"].map((c) => `c.${c}`).join(", ");
type ListSqlRow = {
  id: string;
  source_type: string;
  resource_key: string;
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
export async function listConnections(
  db: Db,
  tenantId: string,
  q: ListQuery,
  opts: { cap?: number } = {},
): Promise<{ rows: ConnectionListRow[]; total: number; totalCapped: boolean; nextCursor: string | null }> {
  const searched = Boolean(q.sourceType || q.risk || q.owner || q.q);
  // owner and free text are tested on the table's rows (a count reads each match): a lower cap
  const rowTested = Boolean(q.owner || q.q);
  const cap = opts.cap ?? (rowTested ? SEARCH_CAP : TOTAL_CAP);
  const statuses = q.status?.length ? ALL_STATUSES.filter((s) => q.status!.includes(s)) : ALL_STATUSES;
  const filters = await filterSql(db, tenantId, q);
  const where = (status: Prisma.Sql) => Prisma.sql`${allOf(filters.all)} AND ${status}`;
  // the enum itself (not its text), and every status when none is chosen: the status-leading
  // indexes then serve source type and risk too (one range per status, inside the index). Not
  // for owner or free text with no status chosen: their GIN indexes would intersect every
  // status's posting list for nothing.
  const anyStatus = rowTested && !q.status?.length ? Prisma.sql`TRUE` : Prisma.sql`status = ANY (${[...statuses]}::"ConnectionStatus"[])`;
  const inNamespace = await countsByStatus(db, tenantId, q.namespace);
  // a cursor seeks to where the page before ended: nothing is skipped
  const after = q.after && q.after.sort === q.sort && q.after.dir === q.dir ? q.after : undefined;
  const offset = after ? 0 : (q.page - 1) * q.pageSize;
  /**
   * The cursor's conditions on one status's rows, as alternatives (each its own walk): none when
   * every row of the status comes before the cursor. Sorted by status, the statuses before the
   * cursor's are skipped, its own seeks by id, those after are read from their start.
   */
  const seekIn = (s: Status, fixed: Fixed): Prisma.Sql[][] => {
    if (!after) return [[]];
    if (q.sort !== "status") return afterCursor(after, fixed).map((c) => [c]);
    const [at, here] = [ALL_STATUSES.indexOf(after.key[0] as Status), ALL_STATUSES.indexOf(s)];
    if (here === at) return [[Prisma.sql`id ${Prisma.raw(q.dir === "asc" ? ">" : "<")} ${after.id}::uuid`]];
    return (q.dir === "asc" ? here > at : here < at) ? [[]] : [];
  };
  const k = offset + q.pageSize;
  const keys = Prisma.raw(SORT_COLUMNS[q.sort].join(", "));
  // the matches per status: exact from the counts, or counted up to the cap (past it, those of the first cap + 1 matches)
  let matches: Map<Status, number>;
  /** of them, the free text's source-type matches */
  let typed = new Map<Status, number>();
  /** the page, when the count's statement could return it (owner or free text within the cap) */
  let counted: ListSqlRow[] | undefined;
  if (rowTested) {
    // owner or free text: the count reads each match's row anyway, so the same statement sorts
    // those matches and returns the page — only when they are within the cap (past it, the
    // page's CTE is skipped: its one-time filter sees the cap + 1st match)
    const withStatus = Prisma.raw([...new Set(["status", ...SORT_COLUMNS[q.sort]])].join(", "));
    // free text that names source types counts its two disjoint sets apart, each through its
    // own index: the types' matches per status (exact up to the cap, index entries only: in one
    // index order they would all come from its first statuses), the rest (status text, IDs) in
    // the trigram and ID indexes — read together, the rows that are neither would be tested one
    // by one until the cap is reached. The types' rows themselves are read only when they are
    // within the cap (for the page).
    const text = filters.text;
    const byType = text?.byType;
    const typedCte = byType
      ? Prisma.sql`typed AS MATERIALIZED (SELECT s AS status, (SELECT count(*) FROM (SELECT 1 FROM connections WHERE ${allOf(filters.base)} AND ${byType} AND status = s LIMIT ${cap + 1}) x) AS n
          FROM unnest(${[...statuses]}::"ConnectionStatus"[]) s),`
      : Prisma.empty;
    const sample = text && byType
      ? Prisma.sql`(SELECT ${withStatus}, TRUE AS by_type FROM connections WHERE ${allOf(filters.base)} AND ${byType} AND ${anyStatus} AND (SELECT sum(n) FROM typed) <= ${cap})
        UNION ALL (SELECT ${withStatus}, FALSE FROM connections WHERE ${allOf(text.rest())} AND ${anyStatus} LIMIT ${cap + 1})`
      : Prisma.sql`SELECT ${withStatus}, FALSE AS by_type FROM connections WHERE ${where(anyStatus)} LIMIT ${cap + 1}`;
    const out = await db.$queryRaw<(ListSqlRow & { count_status: Status | null; n: bigint | null; n_typed: bigint | null; pos: bigint | null })[]>`
      WITH ${typedCte} m AS MATERIALIZED (${sample}),
      page AS (SELECT ${keys}, row_number() OVER (${orderBy(q)}) AS pos FROM m
        WHERE NOT EXISTS (SELECT 1 FROM m OFFSET ${cap}) ${after ? Prisma.sql`AND (${Prisma.join(afterCursor(after), " OR ")})` : Prisma.empty} ${orderBy(q)} OFFSET ${offset} LIMIT ${q.pageSize})
      SELECT NULL::"ConnectionStatus" AS count_status, NULL::bigint AS n, NULL::bigint AS n_typed, page.pos, ${Prisma.raw(LIST_COLUMNS_OF_C)}
      FROM page JOIN connections c ON c.id = page.id AND c.tenant_id = ${tenantId}::uuid
      UNION ALL
      SELECT status, count(*)::bigint, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM m WHERE NOT by_type GROUP BY status
      ${byType ? Prisma.sql`UNION ALL SELECT status, 0, n, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM typed` : Prisma.empty}`;
    matches = new Map();
    for (const r of out) {
      if (r.count_status === null) continue;
      const [n, t] = [Number(r.n), Number(r.n_typed)];
      matches.set(r.count_status, (matches.get(r.count_status) ?? 0) + n + t);
      if (t) typed.set(r.count_status, t);
    }
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
    // per status that has matches (or may have, past the cap), one branch per disjoint set of its
    // matches: its first `limit` in order, by walking its sort index or by reading the set whole,
    // whichever costs less. Past the cap the counts are of the first cap + 1 matches in the
    // count's scan order. For an owner or free-text search that is the table's order, so a set
    // with none of them in a status is small there: read it whole (its own index finds it); the
    // others are dense, walk them. A search on source type and risk only is counted in index
    // order, and its walks test both filters inside the index: walk every status.
    const statusIs = (s: Status) => Prisma.sql`status = ${s}::"ConnectionStatus"`;
    const restExact = [...matches].reduce((a, [s, n]) => a + n - (typed.get(s) ?? 0), 0) <= cap;
    const branchOne = (c: Conds, whole: boolean, limit: number) =>
      whole
        ? // OFFSET 0 keeps the matching set its own plan (the filters' indexes), never a sort-index walk
          Prisma.sql`(SELECT ${keys} FROM (SELECT ${keys} FROM connections WHERE ${allOf(c)} OFFSET 0) matches ${orderBy(q)} LIMIT ${limit})`
        : Prisma.sql`(SELECT ${keys} FROM connections WHERE ${allOf(c)} ${orderBy(q)} LIMIT ${limit})`;
    const fixedByFilters: Fixed = { sourceType: q.sourceType, risk: q.risk };
    const branchesOf = (s: Status, limit: number): Prisma.Sql[] => {
      const m = matches.get(s) ?? 0;
      if (m === 0 && !capped) return [];
      // one branch per alternative of the cursor's seek (the sort index's columns: tested inside it)
      const branch = (c: Conds, whole: boolean, lim: number, fixed = fixedByFilters) => seekIn(s, fixed).map((seek) => branchOne({ index: [...c.index, ...seek], row: c.row }, whole, lim));
      const text = filters.text;
      if (text && capped) {
        // free text: its source-type matches (walked with the type tested inside the sort
        // index), then the rest (a status's few read whole through its own trigrams and ID indexes)
        const nTyped = typed.get(s) ?? 0;
        // (exact up to the cap: read them whole while that beats a walk, as for a source-type filter)
        const typesWhole = readMatchesWhole(nTyped * INDEX_WALK_WEIGHT, inNamespace.get(s) ?? 0, limit, cap);
        const sets: Prisma.Sql[] = [];
        if (nTyped > 0) {
          // (a few types: one walk each, seeking its type where the sort index allows)
          const walks = text.types.length <= 4 ? text.types.map((t) => [t]) : [text.types];
          for (const t of walks) sets.push(...branch({ index: [...filters.base.index, ofTypes(t), statusIs(s)], row: filters.base.row }, typesWhole, limit, { ...fixedByFilters, sourceType: t.length === 1 ? t[0] : q.sourceType }));
        }
        // (the rest's count is exact when its own sample stayed within the cap: read a status's
        // few whole — a walk would test every row of the status to find them)
        const nRest = m - nTyped;
        const restWhole = restExact ? readMatchesWhole(nRest, inNamespace.get(s) ?? 0, limit, cap) : nRest === 0;
        const rest = text.rest(restWhole ? s : undefined);
        sets.push(...branch(restWhole ? rest : { index: [...rest.index, statusIs(s)], row: rest.row }, restWhole, limit));
        return sets;
      }
      // (a walk that tests source type and risk inside the index reads index entries, ~30× cheaper
      // than the table rows a read of the matches fetches for their sort key: weigh them so)
      const whole = capped ? rowTested && m === 0 : readMatchesWhole(m * INDEX_WALK_WEIGHT, inNamespace.get(s) ?? 0, k, Number.POSITIVE_INFINITY);
      return branch({ index: [...filters.all.index, statusIs(s)], row: filters.all.row }, whole, limit);
    };
    // a deferred join: the page's ids (and sort keys) first, from the indexes alone where the
    // filters allow (index-only scans), then only the page's rows are read
    //
    // The branches are chosen from the matches' counts; the planner only guesses them, and a
    // text's guess can be 6× too low: it would then read a walk's every match through a trigram
    // index and sort them (30 ms per status at 100k connections where the walk takes 2 ms). With
    // sorting disabled for the statement it sorts only where nothing else can give the order (a
    // branch read whole, the page's 25 rows): a walk stays a walk. (Only for owner and free text:
    // the other filters have no index but the sort indexes' to go through.)
    const pageOf = async (branches: Prisma.Sql[], skip: number, take: number) => {
      const page = db.$queryRaw<ListSqlRow[]>`
        SELECT ${Prisma.raw(LIST_COLUMNS_OF_C)}
        FROM (SELECT ${keys} FROM (${Prisma.join(branches, " UNION ALL ")}) branches ${orderBy(q)} OFFSET ${skip} LIMIT ${take}) page
        JOIN connections c ON c.id = page.id AND c.tenant_id = ${tenantId}::uuid
        ${orderBy(q, "page.")}`;
      return rowTested ? (await db.$transaction([db.$executeRaw`SET LOCAL enable_sort = off`, page]))[1] : page;
    };
    if (q.sort !== "status") {
      // the branches merged in sort order: each is read only as far as the merge needs
      const branches = statuses.flatMap((s) => branchesOf(s, k));
      if (branches.length) rows = await pageOf(branches, offset, q.pageSize);
    } else {
      // sorted by status, the statuses come one after the other: read them in that order, each
      // only for what the page still needs (merged in one statement, every status's branch would
      // be read to its limit: the planner cannot see that each holds a single status)
      let skip = offset;
      for (const s of q.dir === "asc" ? statuses : [...statuses].reverse()) {
        if (rows.length >= q.pageSize) break;
        // exact counts (no cap): a status wholly before the page is skipped unread
        const n = matches.get(s) ?? 0;
        if (!capped && skip >= n) {
          skip -= n;
          continue;
        }
        const branches = branchesOf(s, skip + q.pageSize - rows.length);
        if (!branches.length) continue;
        const got = await pageOf(branches, skip, q.pageSize - rows.length);
        if (capped) {
          // past the cap a status's count is not known: what it held before the page is learnt by reading
          const before = got.length ? skip : (await db.$queryRaw<{ n: bigint }[]>`SELECT count(*)::bigint AS n FROM (SELECT 1 FROM (${Prisma.join(branches, " UNION ALL ")}) b) c`)[0]!.n;
          skip -= Number(before);
        } else skip = 0;
        rows.push(...got);
      }
    }
  }
  const last = rows.length === q.pageSize ? rows.at(-1) : undefined;
  return {
    total: capped ? cap : total,
    totalCapped: capped,
    nextCursor: last ? encodeCursor({ sort: q.sort, dir: q.dir, key: keyOfRow(q.sort, last), id: last.id }) : null,
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
 * approved" (never the read-only demo namespace): what a newly approved rule may resume. One page
 * of BLOCKED_PAGE of them by id, after `afterId`; `read` is how many rows it held (a full page: ask again).
 */
export async function listBlockedOnDestination(db: Db, tenantId: string, afterId?: string): Promise<{ blocked: BlockedConnection[]; read: number; lastId: string | undefined }> {
  const rows = await db.connection.findMany({
    where: { tenantId, status: "NETWORK_BLOCKED", namespace: { not: "demo" }, blockedDestination: { not: Prisma.AnyNull }, ...(afterId ? { id: { gt: afterId } } : {}) },
    select: { id: true, sourceType: true, blockedDestination: true },
    orderBy: { id: "asc" },
    take: BLOCKED_PAGE,
  });
  const blocked = rows.flatMap((r) => {
    const destination = asBlockedDestination(r.blockedDestination);
    return destination ? [{ id: r.id, sourceType: r.sourceType, destination }] : [];
  });
  return { blocked, read: rows.length, lastId: rows.at(-1)?.id };
}

/** Blocked connections read per statement when a new rule is checked against them. */
export const BLOCKED_PAGE = 5_000;

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
