/** `npm run db:migrate`: applies prisma/migrations to DATABASE_URL (the app also does this at start). */
import { applyMigrations } from "../server/db/migrate";
import { parseEnv } from "../server/env";

// migrations sign and decrypt nothing: DATABASE_URL alone is enough here
const url = parseEnv(process.env, { needsKeys: false }).DATABASE_URL;
if (!url) {
  console.error("[migrate] Set DATABASE_URL to the PostgreSQL database to migrate (npm start migrates the embedded one by itself).");
  process.exit(1);
}
const r = await applyMigrations(url);
console.log(`[migrate] applied ${r.applied.length} of ${r.total} migration(s)`);
