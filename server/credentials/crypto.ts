/**
 * Encryption at rest for resolved secrets: AES-256-GCM with a random 12-byte IV per record.
 * The AAD is `${tenantId}:${locator}`, so a row copied to another tenant or locator fails its
 * authentication check instead of decrypting. `keyId` lets a reader tell "encrypted with a
 * different key" (rotation, a restored backup) apart from tampering.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { getEnv } from "../env";
import { err, ok, type Result } from "../lib/result";

/** `previous`: earlier keys (ENCRYPTION_KEY_PREVIOUS) that still decrypt until `npm run rekey` re-encrypted everything */
export type EncryptionKey = { readonly bytes: Buffer; readonly id: string; readonly previous?: readonly EncryptionKey[] };
export type Sealed = { ciphertext: Buffer; iv: Buffer; tag: Buffer; keyId: string };

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function parseEncryptionKey(raw: string): EncryptionKey {
  const bytes = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, "hex") : Buffer.from(raw, "base64");
  if (bytes.length !== 32) throw new Error("ENCRYPTION_KEY must be 32 bytes as 64 hex chars or base64");
  // A domain-separated hash, truncated: enough to tell keys apart, useless to recover one.
  const id = createHash("sha256").update("aam-credential-key-id:").update(bytes).digest("hex").slice(0, 12);
  return { bytes, id };
}

/** The process's key from ENCRYPTION_KEY (or DATA_DIR/secrets.json) with ENCRYPTION_KEY_PREVIOUS, or undefined when none is configured. */
export function encryptionKeyFromEnv(): EncryptionKey | undefined {
  const e = getEnv();
  if (!e.ENCRYPTION_KEY) return undefined;
  return withPrevious(parseEncryptionKey(e.ENCRYPTION_KEY), (e.ENCRYPTION_KEY_PREVIOUS ?? []).map(parseEncryptionKey));
}

export function withPrevious(key: EncryptionKey, previous: readonly EncryptionKey[]): EncryptionKey {
  return { bytes: key.bytes, id: key.id, previous: previous.filter((p) => p.id !== key.id) };
}

export function aadFor(tenantId: string, locator: string): Buffer {
  return Buffer.from(`${tenantId}:${locator}`, "utf8");
}

export function encrypt(key: EncryptionKey, plaintext: string, aad: Buffer): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key.bytes, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return { ciphertext, iv, tag: cipher.getAuthTag(), keyId: key.id };
}

export function decrypt(current: EncryptionKey, sealed: Sealed, aad: Buffer): Result<string, string> {
  // new records use the current key; records from before a rotation, the previous key they name
  const key = sealed.keyId === current.id ? current : current.previous?.find((p) => p.id === sealed.keyId);
  if (!key) return err(`encrypted with a different key (key id ${sealed.keyId}, current ${current.id}); list the old key in ENCRYPTION_KEY_PREVIOUS`);
  if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES) return err("malformed encrypted record");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.bytes, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    return ok(Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8"));
  } catch {
    // node says only "Unsupported state or unable to authenticate data"; say what it means here.
    return err("encrypted record failed authentication (tampered, or bound to another tenant or locator)");
  }
}
