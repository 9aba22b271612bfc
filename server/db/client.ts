/**
 * The Prisma client for this process (one pool, reused across hot reloads in dev).
 * Only repositories import it (STYLE.md rule 3).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";
import { getEnv, requireDatabaseUrl } from "../env";

export type Db = PrismaClient;
export { Prisma } from "./generated/client";

const globalForDb = globalThis as unknown as { __aamPrisma?: PrismaClient };

export function createDb(databaseUrl: string, max = 10): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max }) });
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

/** The pool of the queue's utilities (enqueue, unlock): short statements, a few at a time. */
export const QUEUE_POOL_SIZE = 4;

/**
 * Prisma's pool: room for web requests, plus attempt statements when this process runs the
 * worker. An attempt holds a connection only for the length of one statement (3 per attempt,
 * around a source that takes hundreds of ms), so 10 more serve 100 concurrent attempts.
 */
export function prismaPoolSize(opts: { runWorker: boolean; concurrency: number; web?: boolean }): number {
  return (opts.web === false ? 2 : 10) + (opts.runWorker ? Math.min(opts.concurrency, 10) : 0);
}

export function getDb(): PrismaClient {
  const env = getEnv();
  globalForDb.__aamPrisma ??= createDb(requireDatabaseUrl(), prismaPoolSize({ runWorker: env.runWorker, concurrency: env.WORKER_CONCURRENCY }));
  return globalForDb.__aamPrisma;
}
