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

/** graphile-worker's own pool: one connection per concurrent job plus two for fetching and completing jobs. */
export function workerPoolSize(concurrency: number): number {
  return concurrency + 2;
}

/** Prisma's pool: room for web requests, plus one connection per concurrent job when this process runs the worker. */
export function prismaPoolSize(opts: { runWorker: boolean; concurrency: number; web?: boolean }): number {
  return (opts.web === false ? 2 : 10) + (opts.runWorker ? opts.concurrency : 0);
}

export function getDb(): PrismaClient {
  const env = getEnv();
  globalForDb.__aamPrisma ??= createDb(requireDatabaseUrl(), prismaPoolSize({ runWorker: env.runWorker, concurrency: env.WORKER_CONCURRENCY }));
  return globalForDb.__aamPrisma;
}
