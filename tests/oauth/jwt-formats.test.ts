/**
 * The service-account JWT formats the catalog declares (issue 10 item 5), against local verifiers
 * that check the RS256 signature with the public key and the claims each vendor documents:
 * Google service-account JWT (optional domain-wide delegation `sub`), Snowflake key-pair JWT (the
 * private_key_jwt client assertion for Okta is in vendors.test.ts).
 */
import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPrivateKey, publicKeyFingerprint, snowflakeAccountForJwt, snowflakeKeypairJwt } from "../../server/credentials/jwt-assertion";
import { resolveServicePrincipal } from "../../server/credentials/sp";
import type { TenantScope } from "../../server/credentials/tenant-scope";
import type { Db } from "../../server/db/client";
import { testEnv } from "../helpers/env";
import { startVendorServer, verifyRs256, type VendorServer } from "./vendor-server";

const noDb = new Proxy({} as Db, {
  get: (_t, p) => {
    throw new Error(`database touched: ${String(p)}`);
  },
});
const SCOPE: TenantScope = { id: "t-default", slug: "default", isDefault: true, envKey: "DEFAULT" };
const deps = () => ({ db: noDb, now: () => new Date(), key: undefined, timeoutMs: 3_000, secrets: [] as string[], scope: SCOPE });
const keys = () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKey: publicKey.export({ type: "spki", format: "pem" }).toString() };
};

let vendor: VendorServer;
beforeEach(async () => {
  vendor = await startVendorServer();
});
afterEach(async () => {
  await vendor.close();
  for (const k of Object.keys(testEnv)) if (k.startsWith("SP_JWT_")) delete testEnv[k];
});

describe("Google service-account JWT (developers.google.com/identity/protocols/oauth2/service-account)", () => {
  for (const subject of [undefined, "admin@example.com"]) {
    it(`is exchanged with the JWT bearer grant; the verifier checks signature, iss, scope, aud, iat/exp ≤ 1 h${subject ? " and the delegation sub" : ""}`, async () => {
      const { privateKey, publicKey } = keys();
      const tokenUrl = `${vendor.url}/token`;
      vendor.route("POST", "/token", (r) => {
        if (r.form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer" || [...r.form.keys()].sort().join() !== "assertion,grant_type") return { status: 400, json: { error: "invalid_grant" } };
        try {
          const { header, claims } = verifyRs256(r.form.get("assertion")!, publicKey);
          const good =
            header.typ === "JWT" && header.kid === "d7f1e0c2ab" && claims.iss === "svc@proj.iam.gserviceaccount.com" && claims.scope === "https://www.googleapis.com/auth/cloud-platform.read-only" &&
            claims.aud === tokenUrl && (claims.exp as number) - (claims.iat as number) <= 3600 && Math.abs((claims.iat as number) - Date.now() / 1000) < 60 && claims.sub === subject;
          if (!good) return { status: 400, json: { error: "invalid_grant", error_description: "Invalid JWT" } };
        } catch {
          return { status: 400, json: { error: "invalid_grant", error_description: "Invalid JWT Signature." } };
        }
        // "Handling the response" example
        return { json: { access_token: "1/8xbJqaOZXSUZbHLl5EOtu1pxz3fmmetKx9W8CV4t79M", scope: "https://www.googleapis.com/auth/prediction", token_type: "Bearer", expires_in: 3600 } };
      });
      const keyFile = { type: "service_account", project_id: "proj", private_key_id: "d7f1e0c2ab", private_key: privateKey, client_email: "svc@proj.iam.gserviceaccount.com", token_uri: "https://oauth2.googleapis.com/token" };
      Object.assign(testEnv, { SP_JWT_SA_SOURCE_TYPES: "gcp_org", SP_JWT_SA_KEY_JSON: JSON.stringify(keyFile), SP_JWT_SA_TOKEN_URL: tokenUrl, ...(subject ? { SP_JWT_SA_SUBJECT: subject } : {}) });
      const d = deps();
      const r = await resolveServicePrincipal(d, "jwt-sa", { tenantId: "t", connectionId: "c", sourceType: "gcp_org", tokenUrl: "https://oauth2.googleapis.com/token", scopes: ["https://www.googleapis.com/auth/cloud-platform.read-only"], config: {} });
      expect(r).toEqual({ ok: true, value: { access_token: "1/8xbJqaOZXSUZbHLl5EOtu1pxz3fmmetKx9W8CV4t79M", token_type: "bearer" } });
      // the private key is registered for redaction and never sent
      expect(d.secrets).toContain(privateKey);
      expect(vendor.requests[0]!.raw).not.toContain("PRIVATE KEY");
    });
  }

  it("refuses a key that is not a service-account key, in words, without sending anything", async () => {
    Object.assign(testEnv, { SP_JWT_SA_SOURCE_TYPES: "gcp_org", SP_JWT_SA_KEY_JSON: JSON.stringify({ type: "authorized_user", client_id: "x" }), SP_JWT_SA_TOKEN_URL: `${vendor.url}/token` });
    const r = await resolveServicePrincipal(deps(), "jwt-sa", { tenantId: "t", connectionId: "c", sourceType: "gcp_org", tokenUrl: "https://oauth2.googleapis.com/token", scopes: [], config: {} });
    expect(r).toMatchObject({ ok: false, error: { kind: "unreadable", message: expect.stringContaining("no client_email or private_key") } });
    expect(vendor.requests).toHaveLength(0);
  });
});

describe("Snowflake key-pair JWT (docs.snowflake.com/en/developer-guide/sql-api/authenticating)", () => {
  /** Snowflake's check: signature with the user's registered public key, iss/sub as documented, fingerprint = RSA_PUBLIC_KEY_FP. */
  function snowflakeVerifier(publicKeyPem: string, account: string, user: string, jwt: string) {
    const der = createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
    const fp = `SHA256:${createHash("sha256").update(der).digest("base64")}`;
    const { claims } = verifyRs256(jwt, publicKeyPem);
    expect(claims.sub).toBe(`${account}.${user}`);
    expect(claims.iss).toBe(`${account}.${user}.${fp}`);
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(3600);
  }

  it("resolves sp: to a key-pair JWT Snowflake's verifier accepts (uppercase account and user, public-key fingerprint)", async () => {
    const { privateKey, publicKey } = keys();
    Object.assign(testEnv, { SP_JWT_SNOW_SOURCE_TYPES: "snowflake", SP_JWT_SNOW_PRIVATE_KEY: privateKey, SP_JWT_SNOW_USER: "svc_reader" });
    const r = await resolveServicePrincipal(deps(), "jwt-snow", { tenantId: "t", connectionId: "c", sourceType: "snowflake", config: { account: "myorg-myaccount", warehouse: "W", database: "D", role: "R" } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.token_type).toBe("KEYPAIR_JWT");
    snowflakeVerifier(publicKey, "MYORG-MYACCOUNT", "SVC_READER", r.value.access_token!);
    expect(() => verifyRs256(r.value.access_token!, keys().publicKey)).toThrow("bad signature");
  });

  it("names the account as Snowflake documents: locator without region, org.account with a hyphen", () => {
    expect(snowflakeAccountForJwt("xy12345.us-east-2.aws")).toBe("XY12345");
    expect(snowflakeAccountForJwt("myorg.myaccount")).toBe("MYORG-MYACCOUNT");
    expect(snowflakeAccountForJwt("myorg-myaccount")).toBe("MYORG-MYACCOUNT");
    const { privateKey } = keys();
    const k = loadPrivateKey(privateKey);
    expect(k.ok && publicKeyFingerprint(k.value)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}=$/);
    expect(snowflakeKeypairJwt({ account: "a", user: "u", privateKey: "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", now: new Date() })).toEqual({ ok: false, error: "the private key could not be read (expected an RSA key in PEM or JWK form)" });
  });
});
