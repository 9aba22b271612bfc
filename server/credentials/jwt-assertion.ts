/**
 * The service-account JWT formats the catalog declares (schema.ts `service_account.format`),
 * signed with node:crypto (RS256 = RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3):
 *
 *  - google_jwt: a Google service account's self-signed assertion exchanged at
 *    https://oauth2.googleapis.com/token with grant_type urn:ietf:params:oauth:grant-type:jwt-bearer
 *    (RFC 7523 §2.1). Claims iss = client_email, scope (space-delimited), aud = token URL, iat,
 *    exp ≤ iat + 1 h; `sub` = the user to impersonate with domain-wide delegation.
 *    ref: https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests
 *         ("Creating a JWT", "Additional claims", "Making the access token request")
 *  - okta_private_key_jwt: a client assertion (RFC 7523 §2.2) for client credentials. Claims
 *    iss = sub = client_id, aud = the full token URL, exp (< 1 h after iat), iat, jti; the header's
 *    kid names the app's public key. Okta requires it for okta.* scopes of API service apps.
 *    ref: https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/#create-and-sign-the-jwt
 *  - snowflake_keypair_jwt: used directly as the bearer token with
 *    `X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT`. Claims
 *    iss = <ACCOUNT>.<USER>.SHA256:<base64 SHA-256 of the public key's DER SPKI>,
 *    sub = <ACCOUNT>.<USER> (account and user uppercase; an account locator without its region,
 *    an org-account name with `-` for `.`), iat, exp ≤ iat + 1 h.
 *    ref: https://docs.snowflake.com/en/developer-guide/sql-api/authenticating#using-key-pair-authentication
 *
 * Private keys are PEM (PKCS#8 `BEGIN PRIVATE KEY`, PKCS#1 `BEGIN RSA PRIVATE KEY`) or a JWK
 * object; they never appear in an error message.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject } from "node:crypto";
import { err, ok, type Result } from "../lib/result";

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** Google and Snowflake cap an assertion's lifetime at one hour; Okta requires less than one hour. */
export const MAX_LIFETIME_S = 3600;

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** The RSA private key, or an error in words (never the key material). */
export function loadPrivateKey(material: string): Result<KeyObject, string> {
  const text = material.trim().replace(/\\n/g, "\n");
  try {
    const key = text.startsWith("{") ? createPrivateKey({ key: JSON.parse(text), format: "jwk" }) : createPrivateKey({ key: text, format: "pem" });
    if (key.asymmetricKeyType !== "rsa") return err(`the private key is ${key.asymmetricKeyType ?? "not asymmetric"}, but RS256 needs an RSA key`);
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return err("the RSA private key is shorter than 2048 bits");
    return ok(key);
  } catch {
    return err("the private key could not be read (expected an RSA key in PEM or JWK form)");
  }
}

export function signRs256(claims: Record<string, unknown>, key: KeyObject, kid?: string): string {
  const header = { alg: "RS256", typ: "JWT", ...(kid ? { kid } : {}) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign("sha256", Buffer.from(input), key))}`;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** A Google service-account key file (the JSON the console downloads), or its fields. */
export type GoogleServiceAccountKey = { client_email: string; private_key: string; private_key_id?: string; token_uri?: string };

export function parseGoogleKey(json: string): Result<GoogleServiceAccountKey, string> {
  try {
    const v = JSON.parse(json) as Record<string, unknown>;
    if (typeof v.client_email !== "string" || typeof v.private_key !== "string") return err("the service-account key has no client_email or private_key");
    if (v.type !== undefined && v.type !== "service_account") return err(`the key file is of type ${String(v.type).slice(0, 40)}, not service_account`);
    return ok({
      client_email: v.client_email,
      private_key: v.private_key,
      ...(typeof v.private_key_id === "string" ? { private_key_id: v.private_key_id } : {}),
      ...(typeof v.token_uri === "string" ? { token_uri: v.token_uri } : {}),
    });
  } catch {
    return err("the service-account key is not valid JSON");
  }
}

export function googleServiceAccountAssertion(opts: { key: GoogleServiceAccountKey; scopes: readonly string[]; audience: string; subject?: string; now: Date }): Result<string, string> {
  const k = loadPrivateKey(opts.key.private_key);
  if (!k.ok) return k;
  const iat = seconds(opts.now);
  const claims: Record<string, unknown> = { iss: opts.key.client_email, scope: opts.scopes.join(" "), aud: opts.audience, iat, exp: iat + MAX_LIFETIME_S };
  if (opts.subject) claims.sub = opts.subject;
  return ok(signRs256(claims, k.value, opts.key.private_key_id));
}

/** RFC 7523 §2.2 client assertion (Okta private_key_jwt). */
export function clientAssertion(opts: { clientId: string; audience: string; privateKey: string; keyId?: string; now: Date; lifetimeS?: number }): Result<string, string> {
  const k = loadPrivateKey(opts.privateKey);
  if (!k.ok) return k;
  const iat = seconds(opts.now);
  const lifetime = Math.min(opts.lifetimeS ?? 300, MAX_LIFETIME_S - 60);
  return ok(signRs256({ iss: opts.clientId, sub: opts.clientId, aud: opts.audience, iat, exp: iat + lifetime, jti: randomUUID() }, k.value, opts.keyId));
}

/** `SHA256:<base64>` of the public key's DER SubjectPublicKeyInfo: what DESCRIBE USER shows as RSA_PUBLIC_KEY_FP. */
export function publicKeyFingerprint(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: "spki", format: "der" });
  return `SHA256:${createHash("sha256").update(der).digest("base64")}`;
}

/**
 * The account part of Snowflake's qualified user name: uppercase, an account locator without its
 * region/cloud (`xy12345.us-east-2.aws` → `XY12345`), an `org.account` name as `ORG-ACCOUNT`.
 */
export function snowflakeAccountForJwt(account: string): string {
  const a = account.trim().toUpperCase().replace(/\.SNOWFLAKECOMPUTING\.COM$/, "");
  const parts = a.split(".");
  // org.account (two labels, neither a region) → ORG-ACCOUNT; locator.region[.cloud] → LOCATOR
  if (parts.length === 2 && !/^[A-Z]{2}-[A-Z]+-\d/.test(parts[1]!) && !/^(AWS|AZURE|GCP)$/.test(parts[1]!)) return `${parts[0]}-${parts[1]}`;
  return parts[0]!;
}

export function snowflakeKeypairJwt(opts: { account: string; user: string; privateKey: string; now: Date; lifetimeS?: number }): Result<{ token: string; expiresAt: Date }, string> {
  const k = loadPrivateKey(opts.privateKey);
  if (!k.ok) return k;
  if (!opts.user.trim()) return err("the Snowflake user name is missing");
  const qualified = `${snowflakeAccountForJwt(opts.account)}.${opts.user.trim().toUpperCase()}`;
  const iat = seconds(opts.now);
  const exp = iat + Math.min(opts.lifetimeS ?? MAX_LIFETIME_S, MAX_LIFETIME_S);
  const token = signRs256({ iss: `${qualified}.${publicKeyFingerprint(k.value)}`, sub: qualified, iat, exp }, k.value);
  return ok({ token, expiresAt: new Date(exp * 1000) });
}
