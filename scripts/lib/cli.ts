/**
 * Shared set-up for the operator CLIs (exec-summary, smoke-90, heal, autonomy-mode): the
 * database from DATABASE_URL, or the embedded one started from DATA_DIR when it is not set.
 */
import path from "node:path";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { DEFAULT_TENANT_SLUG } from "../../server/db/seed";
import { parseEnv, type Env } from "../../server/env";
import { startEmbeddedPostgres, type EmbeddedPg } from "./embedded-pg";

export type CliContext = { env: Env; db: Db; databaseUrl: string; tenantId: string; close: () => Promise<void> };

/** `requireTenant: false` for commands that work before (or across) tenants, such as `npm run tenants`. */
export async function openCli(opts: { requireTenant?: boolean } = {}): Promise<CliContext> {
  const env = parseEnv(process.env, { createSecrets: true });
  let embedded: EmbeddedPg | undefined;
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: env.dataDir, port: env.EMBEDDED_PG_PORT });
    databaseUrl = embedded.url;
    await applyMigrations(databaseUrl);
  }
  const db = createDb(databaseUrl, 5);
  const tenant = await db.tenant.findUnique({ where: { slug: DEFAULT_TENANT_SLUG }, select: { id: true } });
  if (!tenant && opts.requireTenant !== false) {
    await db.$disconnect();
    await embedded?.stop();
    throw new Error(`No tenant yet: start the app once with \`npm start\` (DATA_DIR=${path.relative(process.cwd(), env.dataDir) || "."}).`);
  }
  return {
    env,
    db,
    databaseUrl,
    tenantId: tenant?.id ?? "",
    close: async () => {
      await db.$disconnect();
      await embedded?.stop();
    },
  };
}

export function runCli(main: () => Promise<number | void>): void {
  main()
    .then((code) => process.exit(code ?? 0))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exit(1);
    });
}
