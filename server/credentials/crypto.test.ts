import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { aadFor, decrypt, encrypt, parseEncryptionKey } from "./crypto";

const hexKey = randomBytes(32).toString("hex");
const key = parseEncryptionKey(hexKey);
const aad = aadFor("tenant-a", "consent:google");
const secret = JSON.stringify({ access_token: "at-123", refresh_token: "rt-456" });

function flip(b: Buffer, i = 0): Buffer {
  const c = Buffer.from(b);
  c[i] = c[i]! ^ 0x01;
  return c;
}

describe("AES-256-GCM encryption at rest", () => {
  it("round-trips, with a fresh 12-byte IV and a 16-byte tag each time", () => {
    const a = encrypt(key, secret, aad);
    const b = encrypt(key, secret, aad);
    expect(a.iv.length).toBe(12);
    expect(a.tag.length).toBe(16);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.ciphertext.toString("utf8")).not.toContain("at-123");
    expect(decrypt(key, a, aad)).toEqual({ ok: true, value: secret });
  });

  it("accepts the key as 64 hex chars or as base64 of the same 32 bytes, with the same key id", () => {
    const b64 = parseEncryptionKey(Buffer.from(hexKey, "hex").toString("base64"));
    expect(b64.id).toBe(key.id);
    expect(key.id).toMatch(/^[0-9a-f]{12}$/);
    expect(hexKey).not.toContain(key.id);
    expect(decrypt(b64, encrypt(key, "x", aad), aad)).toEqual({ ok: true, value: "x" });
    expect(() => parseEncryptionKey("abcd")).toThrow(/32 bytes/);
  });

  it("fails when the ciphertext, the tag or the IV is tampered with", () => {
    const s = encrypt(key, secret, aad);
    for (const tampered of [{ ...s, ciphertext: flip(s.ciphertext, 3) }, { ...s, tag: flip(s.tag) }, { ...s, iv: flip(s.iv) }]) {
      const r = decrypt(key, tampered, aad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/failed authentication/);
    }
  });

  it("fails when the record is moved to another tenant or locator (AAD)", () => {
    const s = encrypt(key, secret, aad);
    expect(decrypt(key, s, aadFor("tenant-b", "consent:google")).ok).toBe(false);
    expect(decrypt(key, s, aadFor("tenant-a", "consent:microsoft")).ok).toBe(false);
  });

  it("fails with a wrong key, and says so by key id before trying", () => {
    const other = parseEncryptionKey(randomBytes(32).toString("hex"));
    const s = encrypt(key, secret, aad);
    const r = decrypt(other, s, aad);
    expect(r).toEqual({ ok: false, error: `encrypted with a different key (key id ${key.id}, current ${other.id}); list the old key in ENCRYPTION_KEY_PREVIOUS` });
    // even a forged key id does not let the wrong key decrypt
    expect(decrypt(other, { ...s, keyId: other.id }, aad).ok).toBe(false);
  });
});
