/**
 * A driver adapter for the Prisma CLI (Migrate on the WASM schema engine, used offline).
 * @prisma/adapter-pg 6.19.3 has four bugs that break Migrate (RECIPES.md, prisma/orm#27403):
 *  1. catalog columns of type name/"char" (and their arrays) cannot be mapped → rewrite OIDs to text;
 *  2. the shadow database URL is ignored because `connectionString` wins → use discrete fields;
 *  3. the shadow database is dropped before its pool is closed → close first, then drop;
 *  4. migration scripts are split on every `;` → send the whole script in one simple query.
 * Only the CLI uses this file; the app uses plain PrismaPg.
 */
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { parseIntoClientConfig } from "pg-connection-string";

const OID_REWRITE: Record<number, number> = { 19: 25, 18: 25, 1003: 1009, 1002: 1009 };

type Fielded = { fields?: { dataTypeID: number }[] };
function fixFields<T>(res: T): T {
  const r = res as Fielded | Fielded[];
  for (const one of Array.isArray(r) ? r : [r]) {
    for (const f of one?.fields ?? []) {
      const to = OID_REWRITE[f.dataTypeID];
      if (to) f.dataTypeID = to;
    }
  }
  return res;
}

class CatalogSafeClient extends pg.Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const cbAt = args.findIndex((a) => typeof a === "function");
    if (cbAt >= 0) {
      const cb = args[cbAt];
      args[cbAt] = (err: unknown, res: unknown) => cb(err, res && fixFields(res));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const out = (super.query as (...a: unknown[]) => unknown)(...args);
    return out && typeof (out as Promise<unknown>).then === "function" ? (out as Promise<unknown>).then(fixFields) : out;
  }
}

function poolConfig(url: string, database?: string): pg.PoolConfig {
  const c = parseIntoClientConfig(url);
  return { ...c, ...(database ? { database } : {}), Client: CatalogSafeClient, allowExitOnIdle: true } as pg.PoolConfig;
}

type Adapter = Awaited<ReturnType<PrismaPg["connect"]>>;

function wholeScript(adapter: Adapter, pool: pg.Pool): Adapter {
  adapter.executeScript = async (script: string) => {
    await pool.query(script);
  };
  return adapter;
}

export class MigratePg extends PrismaPg {
  private readonly pool: pg.Pool;
  private readonly url: string;

  constructor(url: string) {
    const pool = new pg.Pool(poolConfig(url));
    super(pool);
    this.pool = pool;
    this.url = url;
  }

  override async connect(): Promise<Adapter> {
    const adapter = await super.connect();
    return wholeScript(adapter, this.pool);
  }

  override async connectToShadowDb(): Promise<Adapter> {
    const admin = new pg.Pool(poolConfig(this.url));
    const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID().replace(/-/g, "")}`;
    await admin.query(`CREATE DATABASE "${database}"`);
    const shadowPool = new pg.Pool(poolConfig(this.url, database));
    const factory = new PrismaPg(shadowPool);
    const adapter = await factory.connect();
    const disposeShadow = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await disposeShadow();
      await shadowPool.end().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS "${database}"`);
      await admin.end();
    };
    return wholeScript(adapter, shadowPool);
  }
}
