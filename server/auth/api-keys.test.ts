import { describe, expect, it } from "vitest";
import { generateApiKey, keyFromValue, parseApiKey, secretMatches } from "./api-keys";

describe("api keys", () => {
  it("generates keys whose secret matches only their own hash", () => {
    const a = generateApiKey();
    const b = generateApiKey();
    const pa = parseApiKey(a.key)!;
    expect(pa.prefix).toBe(a.prefix);
    expect(secretMatches(pa.secret, a.hash)).toBe(true);
    expect(secretMatches(pa.secret, b.hash)).toBe(false);
    expect(a.hash).not.toContain(pa.secret);
  });

  it("rejects malformed keys", () => {
    expect(parseApiKey("Bearer x")).toBeNull();
    expect(parseApiKey("aam_short_x")).toBeNull();
    expect(() => keyFromValue("nope")).toThrow(/SEED_API_KEY/);
  });
});
