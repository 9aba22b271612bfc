import { describe, expect, it } from "vitest";
import { redact } from "./redact";

describe("redact", () => {
  it("replaces known secret values and their URL-encoded forms", () => {
    const secret = "p@ss w/rd+1";
    const text = `login failed for ${secret}; retried https://h/x?p=${encodeURIComponent(secret)} and body p=${new URLSearchParams({ v: secret }).toString().slice(2)}`;
    const out = redact(text, [secret]);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).not.toContain("p%40ss+w%2Frd%2B1");
    expect(out).toBe("login failed for [redacted]; retried https://h/x?p=[redacted] and body p=[redacted]");
  });

  it("replaces the longer of two overlapping secrets whole", () => {
    expect(redact("token abcdef123", ["abc", "abcdef123"])).toBe("token [redacted]");
  });

  it("ignores empty and undefined entries instead of redacting everything", () => {
    expect(redact("nothing secret here", ["", undefined])).toBe("nothing secret here");
  });

  it("redacts bearer tokens and authorization headers it was not told about", () => {
    expect(redact("upstream said: Authorization: Bearer eyJhbGciOi.abc.def rejected")).toBe("upstream said: Authorization: [redacted] rejected");
    expect(redact("sent Bearer abc123XYZ")).toBe("sent Bearer [redacted]");
    expect(redact("X-Vault-Token: hvs.CAESIJ1 was denied")).toBe("X-Vault-Token: [redacted] was denied");
    expect(redact('{"X-Vault-Token":"hvs.CAESIJ1"}')).toBe('{"X-Vault-Token":"[redacted]"}');
  });

  it("redacts password/token/secret query parameters and key=value pairs", () => {
    expect(redact("GET https://api.example.com/v1?user=bob&password=hunter2&page=1")).toBe("GET https://api.example.com/v1?user=bob&password=[redacted]&page=1");
    expect(redact("access_token=at.123&refresh_token=rt.456")).toBe("access_token=[redacted]&refresh_token=[redacted]");
    expect(redact("client_secret=s3cr3t, api_key: k-1")).toBe("client_secret=[redacted], api_key: [redacted]");
    expect(redact('{"password":"hunter2","user":"bob"}')).toBe('{"password":"[redacted]","user":"bob"}');
  });

  it("redacts user:password@ in URLs of any scheme", () => {
    expect(redact("connect postgresql://app:hunter2@db.internal:5432/x failed")).toBe("connect postgresql://app:[redacted]@db.internal:5432/x failed");
    expect(redact("https://u:p%40ss@host/")).toBe("https://u:[redacted]@host/");
  });

  it("leaves ordinary messages alone", () => {
    const m = 'Vault secret secret/apps/pg has no field "password"';
    expect(redact(m)).toBe(m);
  });
});
