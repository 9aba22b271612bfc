/**
 * AOD API keys: `aam_<prefix>_<secret>`. The prefix finds the row; only SHA-256(secret) is stored,
 * compared in constant time. A key is shown once, when created.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export type ParsedKey = { prefix: string; secret: string };

const KEY_RE = /^aam_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{20,128})$/;

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString("base64url").replace(/[-_]/g, "x").slice(0, 8);
  const secret = randomBytes(24).toString("base64url");
  return { key: `aam_${prefix}_${secret}`, prefix, hash: hashSecret(secret) };
}

/** A key given by the operator (SEED_API_KEY) must have the same shape. */
export function keyFromValue(value: string): { key: string; prefix: string; hash: string } {
  const parsed = parseApiKey(value);
  if (!parsed) throw new Error("SEED_API_KEY must look like aam_<8 letters or digits>_<20+ characters>");
  return { key: value, prefix: parsed.prefix, hash: hashSecret(parsed.secret) };
}

export function parseApiKey(value: string): ParsedKey | null {
  const m = KEY_RE.exec(value.trim());
  return m ? { prefix: m[1]!, secret: m[2]! } : null;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
