/**
 * A clone deleted and made again at the same path starts again. As root the cluster lives outside
 * DATA_DIR (keyed by its path), so the new clone finds the old cluster without its credentials;
 * it must be replaced, not refused with "another program … did not accept the credentials".
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { removeCluster } from "../scripts/lib/pg-location";
import { startEmbeddedPostgres } from "../scripts/lib/embedded-pg";

const parent = fs.mkdtempSync(path.join(os.tmpdir(), "aam-reclone-"));
const dataDir = path.join(parent, "clone", ".data");
// below the ephemeral range, like the launcher test
const port = 24_000 + Math.floor(Math.random() * 3000);

afterAll(() => {
  removeCluster(dataDir);
  fs.rmSync(parent, { recursive: true, force: true });
});

describe("embedded PostgreSQL after a clone is deleted and cloned again at the same path", () => {
  it("starts with a new cluster and the new credentials", { timeout: 120_000 }, async () => {
    fs.mkdirSync(dataDir, { recursive: true });
    const first = await startEmbeddedPostgres({ dataDir, port, database: "postgres" });
    await first.stop();
    fs.rmSync(path.join(parent, "clone"), { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
    const again = await startEmbeddedPostgres({ dataDir, port, database: "postgres" });
    try {
      const c = new pg.Client({ connectionString: again.url });
      await c.connect();
      expect((await c.query("SELECT 1 AS one")).rows[0]).toEqual({ one: 1 });
      await c.end();
    } finally {
      await again.stop();
    }
  });
});
