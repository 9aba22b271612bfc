/**
 * The Prisma client for this process (one pool, reused across hot reloads in dev).
 * Only repositories import it (STYLE.md rule 3).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";
import { requireDatabaseUrl } from "../env";

export type Db = PrismaClient;
export { Prisma } from "./generated/client";

const globalForDb = globalThis as unknown as { __aamPrisma?: PrismaClient };

export function createDb(databaseUrl: string, max = 10): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max }) });
}

export function getDb(): PrismaClient {
  globalForDb.__aamPrisma ??= createDb(requireDatabaseUrl());
  return globalForDb.__aamPrisma;
}
