import { describe, expect, it } from "vitest";
import { redact, redactEveryPattern, redactor } from "./redact";

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

  it("leaves no part of two secrets that overlap, and replaces each repeat of a secret", () => {
    expect(redact("key=abcdef!", ["cdef", "abc"])).toBe("key=[redacted]!");
    expect(redact("xabcdefx", ["bcd", "abc", "def"])).toBe("x[redacted]x");
    expect(redact("s3cr3t and s3cr3t again", ["s3cr3t"])).toBe("[redacted] and [redacted] again");
    expect(redact("aaaa", ["aa"])).toBe("[redacted]");
    // the same secrets for many texts (a preview): as redact, text by text
    const r = redactor(["hunter2", "p w"]);
    expect(["user hunter2", "p%20w in a url", "p+w in a form", "nothing"].map(r)).toEqual(["user [redacted]", "[redacted] in a url", "[redacted] in a form", "nothing"]);
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

  it("redacts exactly as running every pattern would, whatever the text (the tests that skip a pattern change no result)", () => {
    // every pattern's own shape, for each word it knows, alone among plain words, in any case
    const words = ["password", "passwd", "pwd", "token", "secret", "api_key", "api-key", "apikey", "client_secret", "client-secret", "credential", "sig", "signature", "access_token"];
    const shapes = [
      ...["Bearer", "Basic"].map((w) => `${w} abc123`),
      ...["authorization", "x-vault-token", "x-api-key", "api-key"].map((h) => `${h}: v1`),
      ...words.flatMap((w) => [`${w}=v1`, `"${w}": "v1"`, `${w}: v1`]),
      "postgres://u:hunter2@db",
      "smtp://me:pw@mail",
    ];
    // and words that pass a pattern's test without matching it (a URL, an address, "design")
    const plain = ["hello", "data", "name", "the", "x", "42", "=", ":", "&", '"', "https://api.github.com/repos/a", "a@b.co", "design", "tokens", "x-api", "passage"];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T,>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    const anyCase = (t: string) => [...t].map((c) => (next() < 0.5 ? c.toUpperCase() : c)).join("");
    const redacted = new Set<string>();
    for (let n = 0; n < 6000; n++) {
      const shape = pick(shapes);
      const text = [...Array.from({ length: Math.floor(next() * 3) }, () => pick(plain)), anyCase(shape), ...Array.from({ length: Math.floor(next() * 3) }, () => pick(plain))].join(" ");
      const out = redact(text);
      expect(out, text).toBe(redactEveryPattern(text));
      if (out !== text) redacted.add(shape);
      // and plain words alone are left alone
      const words = Array.from({ length: 1 + Math.floor(next() * 5) }, () => pick(plain)).join(" ");
      expect(redact(words)).toBe(words);
    }
    // every shape was redacted at least once (so the shortcut was tested on each)
    expect([...shapes].filter((x) => !redacted.has(x))).toEqual([]);
  });
});
