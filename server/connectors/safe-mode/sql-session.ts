/**
 * Discover and sample for every SQL driver, written once against `SqlSession` — a handle that
 * can only run guarded reads (sql-guard.ts), so no driver's discover/sample code can reach a
 * raw connection. Drivers supply the session and the catalog query of their dialect.
 */
import { err, ok } from "../../lib/result";
import type { AttemptSource, ConnectorContext, ConnectorFailure, ConnectorResult, DiscoveredSchema, HealthInfo, SampleRecord, SourceAdapter, StreamInfo } from "../types";
import { finishSample, sampleBudget } from "./records";
import { formatStreamName, parseStreamName, type CutRows, type Rows, type SqlDialect } from "./sql-guard";
import { sampleStatement, type CatalogQueries } from "./sql-statements";

export type SqlSession = {
  dialect: SqlDialect;
  /** runs one guarded read (READ ONLY transaction, timeout, row limit; byte cap where the dialect can) */
  read(sql: string, opts: { maxRows: number; maxBytes?: number; params?: unknown[] }): Promise<Rows>;
};

/** Hard caps on metadata, whatever the config asks for. */
export const MAX_TABLES = 500;
const DEFAULT_TABLES = 100;
const MAX_COLUMNS = 20_000;

export type ColumnRow = { table_schema: string; table_name: string; column_name: string; data_type: string; is_nullable: string };

const lowerKeys = (r: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v]));

export function tableCap(config: Record<string, unknown>): number {
  const asked = Number(config.max_tables ?? DEFAULT_TABLES);
  return Math.max(1, Math.min(Number.isFinite(asked) ? Math.floor(asked) : DEFAULT_TABLES, MAX_TABLES));
}

/** `config.schemas` as a list (array or comma-separated string), if given. */
export function configuredSchemas(config: Record<string, unknown>): string[] | undefined {
  const s = config.schemas;
  const list = Array.isArray(s) ? s.map(String) : typeof s === "string" ? s.split(",") : undefined;
  const clean = list?.map((x) => x.trim()).filter(Boolean);
  return clean && clean.length > 0 ? clean : undefined;
}

function wanted(resourceIds: string[], schema: string, table: string): boolean {
  if (resourceIds.length === 0) return true;
  const name = formatStreamName(schema, table);
  return resourceIds.some((r) => r === name || r === table || r === schema || r === `${schema}.*`);
}

type TableRow = { table_schema: unknown; table_name: unknown };
/** The most rows the one-round-trip catalog read takes: as many as the two-query form could (tables, then columns). */
const CATALOG_ROWS = MAX_TABLES * 20 + MAX_COLUMNS;

/**
 * The catalog of the credential's tables and columns: ONE read (`catalogSql`) when its answer is
 * complete, which gives exactly what the two-query form gives (the first MAX_TABLES × 20 tables,
 * the first MAX_COLUMNS columns, in the same order); past CATALOG_ROWS rows it is not, and the
 * two-query form (`tablesSql`, then `columnsSql`) runs as before.
 */
async function readCatalog(session: SqlSession, q: CatalogQueries): Promise<{ tables: TableRow[]; columns: ColumnRow[] }> {
  const rows = (await session.read(q.catalogSql, { maxRows: CATALOG_ROWS + 1, params: q.catalogParams })).map(lowerKeys);
  if (rows.length <= CATALOG_ROWS) {
    let tables: TableRow[];
    let columns: Record<string, unknown>[];
    if (q.catalogShape === "stacked") {
      tables = rows.filter((r) => Number(r.row_kind) === 0) as TableRow[];
      columns = rows.filter((r) => Number(r.row_kind) === 1);
    } else {
      // each table once, in the order of its first row
      const seen = new Map<string, TableRow>();
      for (const r of rows) {
        const key = formatStreamName(String(r.table_schema), String(r.table_name));
        if (!seen.has(key)) seen.set(key, { table_schema: r.table_schema, table_name: r.table_name });
      }
      tables = [...seen.values()];
      columns = rows.filter((r) => r.column_name !== null && r.column_name !== undefined);
    }
    return { tables: tables.slice(0, MAX_TABLES * 20), columns: columns.slice(0, MAX_COLUMNS) as ColumnRow[] };
  }
  const tables = (await session.read(q.tablesSql, { maxRows: MAX_TABLES * 20, params: q.params })).map(lowerKeys) as TableRow[];
  const columns = (await session.read(q.columnsSql, { maxRows: MAX_COLUMNS, params: q.params })).map(lowerKeys) as ColumnRow[];
  return { tables, columns };
}

/**
 * Metadata only: the tables (table_schema, table_name) and columns of the catalog queries, which
 * take the schema list as their only parameter(s) via `params`.
 */
export async function discoverSql(
  session: SqlSession,
  ctx: ConnectorContext,
  q: CatalogQueries,
): Promise<ConnectorResult<DiscoveredSchema>> {
  const cap = tableCap(ctx.config);
  const { tables: all, columns } = await readCatalog(session, q);
  const tables = all.filter((t) => wanted(ctx.resourceIds, String(t.table_schema), String(t.table_name))).slice(0, cap);
  // every named table or schema must be among those the credential can read (issue 10 item 7)
  const missing = ctx.resourceIds.filter((id) => !all.some((t) => wanted([id], String(t.table_schema), String(t.table_name))));
  // a named table the catalog hides from this credential exists: "not visible", not "absent"
  let hidden: Record<string, unknown>[] = [];
  if (missing.length && q.hiddenSql) {
    const names = [...new Set(missing.flatMap((id) => Object.values(parseStreamName(id)).filter((x): x is string => typeof x === "string" && x !== "*")))];
    hidden = (await session.read(q.hiddenSql, { maxRows: 500, params: [q.params[0], names] })).map(lowerKeys);
  }
  const resources = ctx.resourceIds.map((id) => {
    if (!missing.includes(id)) return { id, kind: "table or schema", found: true };
    if (hidden.some((t) => wanted([id], String(t.table_schema), String(t.table_name)))) {
      return { id, kind: "table or schema", found: false, reason: "not_visible" as const, detail: "it exists, but the credential may not read it (no SELECT or schema USAGE privilege)" };
    }
    return { id, kind: "table or schema", found: false, reason: "absent" as const, detail: "no such table or schema, or none the credential may read" };
  });
  const keep = new Set(tables.map((t) => formatStreamName(String(t.table_schema), String(t.table_name))));
  const streams = new Map<string, StreamInfo>([...keep].map((name) => [name, { name, fields: [] }]));
  for (const c of columns) {
    const s = streams.get(formatStreamName(String(c.table_schema), String(c.table_name)));
    if (s) s.fields.push({ name: String(c.column_name), type: String(c.data_type), nullable: String(c.is_nullable).toUpperCase() === "YES" });
  }
  return ok({ streams: [...streams.values()], ...(resources.length ? { resources } : {}) });
}

/**
 * At most the Safe Mode budget of rows across all streams: the generated
 * `SELECT * FROM <quoted schema>.<quoted table> LIMIT n` per discovered stream (the names come
 * from the server's catalog, never from the intent), spread over the streams.
 */
function approximateBytes(data: Record<string, unknown>): number {
  try {
    return Buffer.byteLength(JSON.stringify(data, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "");
  } catch {
    return 0;
  }
}

export async function sampleSql(session: SqlSession, ctx: ConnectorContext, schema: DiscoveredSchema): Promise<ConnectorResult<SampleRecord[]>> {
  const budget = sampleBudget(ctx.policy);
  const records: SampleRecord[] = [];
  const streams = schema.streams.slice(0, Math.max(budget, 0));
  const perStream = streams.length ? Math.max(1, Math.ceil(budget / streams.length)) : 0;
  // the byte cap across all streams (cut server-side where the dialect can: PostgreSQL)
  let bytesLeft = ctx.policy.maxResponseBytes;
  for (const s of streams) {
    const remaining = budget - records.length;
    if (remaining <= 0 || bytesLeft <= 0) break;
    const n = Math.min(perStream, remaining);
    const { schema: sch, table } = parseStreamName(s.name);
    if (!sch) continue; // every discovered stream is schema.table
    const rows: CutRows = await session.read(sampleStatement(session.dialect, sch, table, n), { maxRows: n, maxBytes: bytesLeft });
    for (const data of rows) {
      records.push({ stream: s.name, data });
      bytesLeft -= approximateBytes(data);
    }
    if (rows.cutAtByteCap) break; // the byte budget is spent (and the session closed)
  }
  return finishSample(records, ctx.policy);
}

/**
 * One attempt's health check, discovery and sample over one SqlSession (one connection): what
 * `discover` found is kept, so a `sample` with no streams reads those tables instead of
 * discovering again. A thrown read is mapped by the driver's `mapError`, as the standalone calls do.
 */
export function sqlAttemptSource(o: {
  session: SqlSession;
  ctx: ConnectorContext;
  catalog: CatalogQueries;
  health: (session: SqlSession) => Promise<ConnectorResult<HealthInfo>>;
  mapError: (e: unknown) => ConnectorFailure;
  close: () => Promise<void>;
}): AttemptSource {
  let discovered: DiscoveredSchema | undefined;
  const guarded = async <T>(fn: () => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> => {
    try {
      return await fn();
    } catch (e) {
      return err(o.mapError(e));
    }
  };
  const discover = async (): Promise<ConnectorResult<DiscoveredSchema>> => {
    const d = await discoverSql(o.session, o.ctx, o.catalog);
    if (d.ok) discovered = d.value;
    return d;
  };
  return {
    healthCheck: () => guarded(() => o.health(o.session)),
    discover: () => guarded(discover),
    sample: (schema) =>
      guarded(async () => {
        if (schema.streams.length === 0) {
          const d = discovered ? ok(discovered) : await discover();
          if (!d.ok) return d;
          schema = d.value;
        }
        return sampleSql(o.session, o.ctx, schema);
      }),
    close: o.close,
  };
}

/** A SQL driver's open connection: its guarded session and an idempotent, bounded close. */
export type OpenSql = { session: SqlSession; close: () => Promise<void> };

/**
 * A SQL driver's adapter from its connection opener. Each standalone call opens its own
 * connection and always closes it; `openAttempt` serves the attempt's health check, discovery and
 * sample over one (sqlAttemptSource), and the first health check's latency includes connecting.
 * A thrown read is mapped by the driver's `mapError`.
 */
export function sqlAdapter(d: {
  open: (ctx: ConnectorContext, opts: { attempt: boolean }) => Promise<ConnectorResult<OpenSql>>;
  catalog: (ctx: ConnectorContext) => CatalogQueries;
  /** `since`: when the latency being reported started (performance.now()) */
  health: (session: SqlSession, since: number) => Promise<ConnectorResult<HealthInfo>>;
  mapError: (e: unknown) => ConnectorFailure;
}): SourceAdapter {
  const withSession = async <T>(ctx: ConnectorContext, fn: (session: SqlSession) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> => {
    const opened = await d.open(ctx, { attempt: false });
    if (!opened.ok) return opened;
    try {
      return await fn(opened.value.session);
    } catch (e) {
      return err(d.mapError(e));
    } finally {
      await opened.value.close();
    }
  };
  return {
    async healthCheck(ctx) {
      const started = performance.now();
      return withSession(ctx, (s) => d.health(s, started));
    },
    discover: (ctx) => withSession(ctx, (s) => discoverSql(s, ctx, d.catalog(ctx))),
    sample: (ctx, schema) =>
      withSession(ctx, async (s) => {
        if (schema.streams.length === 0) {
          const found = await discoverSql(s, ctx, d.catalog(ctx));
          if (!found.ok) return found;
          schema = found.value;
        }
        return sampleSql(s, ctx, schema);
      }),
    async openAttempt(ctx) {
      let since: number | undefined = performance.now();
      const opened = await d.open(ctx, { attempt: true });
      if (!opened.ok) return opened;
      const health = (s: SqlSession) => {
        const from = since ?? performance.now();
        since = undefined;
        return d.health(s, from);
      };
      return ok(sqlAttemptSource({ session: opened.value.session, ctx, catalog: d.catalog(ctx), health, mapError: d.mapError, close: opened.value.close }));
    },
  };
}
