/**
 * Secret bundles in and out of the credentials table, encrypted with AES-256-GCM. Used by the
 * resolver (sp: token cache, consent: tokens) and by the consent flow to save the tokens it
 * obtains. Plaintext exists only in memory.
 */
import { err, ok, type Result } from "../lib/result";
import { aadFor, decrypt, encrypt, type EncryptionKey } from "./crypto";
import { getCredentialRecord, upsertCredentialRecord, type CredentialDb } from "./credential-repository";
import type { SecretBundle } from "./types";

export type StoreCredentialInput = {
  tenantId: string;
  /** the table key; for consent: tokens, the canonical locator such as `consent:google` */
  locator: string;
  /** what the bundle is, e.g. "consent" or "sp_token" */
  kind: string;
  bundle: SecretBundle;
  /** null: valid until replaced */
  expiresAt: Date | null;
};

export async function storeCredential(db: CredentialDb, key: EncryptionKey, input: StoreCredentialInput): Promise<void> {
  const sealed = encrypt(key, JSON.stringify(input.bundle), aadFor(input.tenantId, input.locator));
  await upsertCredentialRecord(db, { tenantId: input.tenantId, locator: input.locator, kind: input.kind, expiresAt: input.expiresAt, ...sealed });
}

/** The kind of record that holds tokens from an admin's OAuth consent. */
export const CONSENT_KIND = "consent";

export type StoredCredential = { kind: string; bundle: SecretBundle; expiresAt: Date | null };

/**
 * ok(null) when there is no record or it has expired; err when a record exists but cannot be
 * decrypted (wrong key, tampered, or copied from another tenant), which callers treat as absent
 * for caches and as unreadable for consent tokens.
 */
export async function loadCredential(db: CredentialDb, key: EncryptionKey, tenantId: string, locator: string, now: Date): Promise<Result<StoredCredential | null, string>> {
  const rec = await getCredentialRecord(db, tenantId, locator);
  if (!rec || (rec.expiresAt && rec.expiresAt.getTime() <= now.getTime())) return ok(null);
  const plain = decrypt(key, rec, aadFor(tenantId, locator));
  if (!plain.ok) return plain;
  let bundle: unknown;
  try {
    bundle = JSON.parse(plain.value);
  } catch {
    return err("stored credential is not valid JSON");
  }
  if (!isBundle(bundle)) return err("stored credential is not a map of strings");
  return ok({ kind: rec.kind, bundle, expiresAt: rec.expiresAt });
}

export function isBundle(v: unknown): v is SecretBundle {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}
