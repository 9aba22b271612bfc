import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "./env";

describe("env", () => {
  it("has the documented defaults, and embedded mode without DATABASE_URL", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aam-env-"));
    const e = parseEnv({ DATA_DIR: dir }, { createSecrets: true });
    expect(e.PORT).toBe(3000);
    expect(e.SLO_TARGET).toBe(0.9);
    expect(e.embedded).toBe(true);
    expect(e.sandbox).toBe(true);
    expect(e.ENCRYPTION_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(e.AUTH_SECRET!.length).toBeGreaterThanOrEqual(32);
    // the same secrets on the next start, from DATA_DIR/secrets.json
    const again = parseEnv({ DATA_DIR: dir });
    expect(again.ENCRYPTION_KEY).toBe(e.ENCRYPTION_KEY);
    expect(fs.statSync(path.join(dir, "secrets.json")).mode & 0o077).toBe(0);
  });

  it("uses DATABASE_URL when given and turns the sandbox off by default", () => {
    const e = parseEnv({ DATABASE_URL: "postgresql://u@127.0.0.1:5432/x", DATA_DIR: os.tmpdir(), AUTH_SECRET: "s".repeat(32), ENCRYPTION_KEY: "a".repeat(64) });
    expect(e.embedded).toBe(false);
    expect(e.sandbox).toBe(false);
    expect(parseEnv({ DATABASE_URL: "postgresql://u@h/x", SANDBOX: "on", DATA_DIR: os.tmpdir(), AUTH_SECRET: "s".repeat(32), ENCRYPTION_KEY: "a".repeat(64) }).sandbox).toBe(true);
  });

  it("never generates or reads local keys when DATABASE_URL is set: both must be given, in one sentence", () => {
    // a DATA_DIR that already holds generated keys must not be used either (another machine's worker)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aam-env-"));
    parseEnv({ DATA_DIR: dir }, { createSecrets: true });
    const url = "postgresql://u@127.0.0.1:5432/x";
    expect(() => parseEnv({ DATABASE_URL: url, DATA_DIR: dir }, { createSecrets: true })).toThrow(/^DATABASE_URL is set, so AUTH_SECRET and ENCRYPTION_KEY must be set too, to the same values on every machine/);
    expect(() => parseEnv({ DATABASE_URL: url, DATA_DIR: dir, AUTH_SECRET: "s".repeat(32) })).toThrow(/^DATABASE_URL is set, so ENCRYPTION_KEY must be set too/);
    expect(() => parseEnv({ DATABASE_URL: url, DATA_DIR: dir, ENCRYPTION_KEY: "a".repeat(64) })).toThrow(/^DATABASE_URL is set, so AUTH_SECRET must be set too/);
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "aam-env-"));
    expect(() => parseEnv({ DATABASE_URL: url, DATA_DIR: fresh }, { createSecrets: true })).toThrow(EnvError);
    expect(fs.existsSync(path.join(fresh, "secrets.json"))).toBe(false);
  });

  it("reads ENCRYPTION_KEY_PREVIOUS as a list of keys", () => {
    const e = parseEnv({ DATA_DIR: os.tmpdir(), AUTH_SECRET: "s".repeat(32), ENCRYPTION_KEY: "a".repeat(64), ENCRYPTION_KEY_PREVIOUS: `${"b".repeat(64)}, ${"c".repeat(64)}` });
    expect(e.ENCRYPTION_KEY_PREVIOUS).toEqual(["b".repeat(64), "c".repeat(64)]);
    expect(() => parseEnv({ DATA_DIR: os.tmpdir(), ENCRYPTION_KEY_PREVIOUS: "short" })).toThrow(/ENCRYPTION_KEY_PREVIOUS/);
  });

  it("names every invalid variable", () => {
    expect(() => parseEnv({ PORT: "99999", SLO_TARGET: "2", ENCRYPTION_KEY: "short" })).toThrow(EnvError);
    expect(() => parseEnv({ PORT: "99999", SLO_TARGET: "2" })).toThrow(/PORT[\s\S]*SLO_TARGET/);
  });
});
