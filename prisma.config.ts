import "dotenv/config";
import path from "node:path";
import { defineConfig } from "prisma/config";
import { MigratePg } from "./prisma/migrate-adapter";

// engine "js" runs Migrate on the WASM schema engine shipped inside the prisma package:
// nothing is downloaded (RECIPES.md "Prisma offline").
export default defineConfig({
  engine: "js",
  experimental: { adapter: true },
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url || url.startsWith("postgresql://generate")) throw new Error("DATABASE_URL must point at a real PostgreSQL for migrate commands");
    return new MigratePg(url);
  },
});
