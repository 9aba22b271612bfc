/**
 * The Prisma client for this process (one pool, reused across hot reloads in dev).
 * Only repositories import it (STYLE.md rule 3).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { Prisma, PrismaClient } from "./generated/client";
import { getEnv, requireDatabaseUrl } from "../env";

export type Db = PrismaClient;
export { Prisma } from "./generated/client";

const globalForDb = globalThis as unknown as { __aamPrisma?: PrismaClient };

/**
 * The hot path's statements (admission, attempt start and finish, lease renewal: raw SQL in
 * server/onboarding/connection-repository.ts) skip Prisma's query engine: through Prisma one
 * raw statement costs ~0.4–0.6 ms of CPU in this process, through pg itself ~0.05 ms (issue 13,
 * item 4). Each client made by createDb carries a plain pg pool for them, opened on first use
 * and closed by the client's $disconnect.
 */
type RawHolder = { url: string; max: number; pool?: pg.Pool };
const rawHolders = new WeakMap<object, RawHolder>();

/**
 * Settings of every session this app opens: no JIT compilation. The app's statements are short
 * (a list page, the funnel, the hot path's writes), but a list page's plan of several index walks
 * can pass jit_above_cost on its estimates: compiling it then took 120 ms of a 170 ms page at 1M
 * connections (issue 13 item 5), while JIT pays off only on statements of seconds. An `options`
 * in DATABASE_URL itself takes precedence.
 */
export const SESSION_OPTIONS = "-c jit=off";

export function createDb(databaseUrl: string, max = 10, opts: { rawMax?: number } = {}): PrismaClient {
  const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max, options: SESSION_OPTIONS }) });
  const holder: RawHolder = { url: databaseUrl, max: opts.rawMax ?? Math.max(2, Math.ceil(max / 2)) };
  rawHolders.set(client, holder);
  const disconnect = client.$disconnect.bind(client);
  Object.defineProperty(client, "$disconnect", {
    configurable: true,
    value: async () => {
      const pool = holder.pool;
      holder.pool = undefined;
      await pool?.end().catch(() => undefined);
      await disconnect();
    },
  });
  return client;
}

/** The plain pg pool of a client made by createDb (undefined for any other client: callers fall back to Prisma). */
export function rawPool(db: object): pg.Pool | undefined {
  const h = rawHolders.get(db);
  if (!h) return undefined;
  if (!h.pool) {
    h.pool = new pg.Pool({ connectionString: h.url, max: h.max, idleTimeoutMillis: 10_000, allowExitOnIdle: true, options: SESSION_OPTIONS });
    // an idle connection the server closed (restart, DROP DATABASE … FORCE) is replaced on next use
    h.pool.on("error", () => undefined);
  }
  return h.pool;
}

/**
 * Rows of a raw statement: through the client's plain pg pool when it has one, else Prisma's
 * $queryRaw. `name`: a prepared statement per connection (parsed and planned once, not on every
 * call) — only for a statement whose text is always the same for that name.
 */
export async function sqlRows<T>(db: PrismaClient, sql: Prisma.Sql, name?: string): Promise<T[]> {
  const pool = rawPool(db);
  if (!pool) return db.$queryRaw<T[]>(sql);
  return (await pool.query({ text: sql.text, values: sql.values as unknown[], ...(name ? { name } : {}) })).rows as T[];
}

/** Rows affected by a raw statement (as $executeRaw). */
export async function sqlExecute(db: PrismaClient, sql: Prisma.Sql, name?: string): Promise<number> {
  const pool = rawPool(db);
  if (!pool) return db.$executeRaw(sql);
  return (await pool.query({ text: sql.text, values: sql.values as unknown[], ...(name ? { name } : {}) })).rowCount ?? 0;
}

/**
 * graphile-worker's own pool. A running job holds no connection (our tasks never use its client):
 * the pool serves the LISTEN connection, the batched fetch (local queue) and the batched
 * completions, so a few connections serve any concurrency (issue 13: 100 concurrent attempts
 * per process fit on a server with max_connections = 100).
 */
export function workerPoolSize(concurrency: number): number {
  return Math.min(concurrency + 2, 6);
}

/** The pool of the queue's utilities (enqueue, unlock): short statements, rarely two at a time. */
export const QUEUE_POOL_SIZE = 2;

/** Prisma's pool: room for web requests, plus two for the worker's occasional queries (reapers, settings, masking). */
export function prismaPoolSize(opts: { runWorker: boolean; concurrency: number; web?: boolean }): number {
  return (opts.web === false ? 2 : 10) + (opts.runWorker ? 2 : 0);
}

/**
 * The plain pg pool of the hot statements (rawPool): admissions, plus attempt statements when
 * this process runs the worker. An attempt holds a connection only for the length of one
 * statement (3 per attempt, around a source that takes hundreds of ms), so one more per 4
 * concurrent attempts, at most 8, serves 100 concurrent attempts (a busy pool queues a
 * statement, it does not fail it).
 */
export function rawPoolSize(opts: { runWorker: boolean; concurrency: number; web?: boolean }): number {
  return (opts.web === false ? 1 : 4) + (opts.runWorker ? Math.min(Math.ceil(opts.concurrency / 4), 8) : 0);
}

export function getDb(): PrismaClient {
  const env = getEnv();
  const sizes = { runWorker: env.runWorker, concurrency: env.WORKER_CONCURRENCY };
  globalForDb.__aamPrisma ??= createDb(requireDatabaseUrl(), prismaPoolSize(sizes), { rawMax: rawPoolSize(sizes) });
  return globalForDb.__aamPrisma;
}
