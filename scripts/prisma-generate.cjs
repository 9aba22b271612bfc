// postinstall: generate the Prisma client offline. Prisma needs some DATABASE_URL even to
// generate (else it tries to download an engine); a placeholder is enough.
const { spawnSync } = require("node:child_process");
const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL || "postgresql://generate@127.0.0.1:5432/generate", PRISMA_HIDE_UPDATE_MESSAGE: "1" };
const r = spawnSync(process.execPath, [require.resolve("prisma/build/index.js"), "generate"], { stdio: "inherit", env });
process.exit(r.status ?? 1);
