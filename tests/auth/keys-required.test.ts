/**
 * Keys are never guessed: a worker or CLI pointed at a shared DATABASE_URL without AUTH_SECRET
 * and ENCRYPTION_KEY stops at once with one sentence (exit 1) instead of generating its own.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { childEnv } from "../../server/env";

const root = path.resolve(import.meta.dirname, "../..");

function run(script: string, args: string[] = []) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "aam-keys-"));
  const r = spawnSync(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: root,
    env: childEnv({ DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none", AUTH_SECRET: undefined, ENCRYPTION_KEY: undefined, DATA_DIR: dataDir, NODE_OPTIONS: undefined }),
    encoding: "utf8",
    timeout: 60_000,
  });
  return { ...r, dataDir };
}

describe("keys are required with DATABASE_URL", () => {
  for (const [script, args] of [["scripts/worker.ts", []], ["scripts/exec-summary.ts", ["--json"]]] as const) {
    it(`${script} exits non-zero with one sentence and writes no secrets`, () => {
      const r = run(script, [...args]);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split("\n").filter((l) => !/ExperimentalWarning|--trace-warnings|end of life|Node\.js 2\d/.test(l));
      expect(lines.join("\n")).toMatch(/DATABASE_URL is set, so AUTH_SECRET and ENCRYPTION_KEY must be set too, to the same values on every machine that uses this database/);
      expect(lines).toHaveLength(1);
      expect(fs.existsSync(path.join(r.dataDir, "secrets.json"))).toBe(false);
    });
  }
});
