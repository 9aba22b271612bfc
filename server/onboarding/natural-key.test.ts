import { describe, expect, it } from "vitest";
import { normalizeResourceIds, resourceKey } from "./natural-key";

describe("natural key", () => {
  it("ignores order and duplicates", () => {
    expect(resourceKey(["b", "a", "a"])).toBe(resourceKey(["a", "b"]));
    expect(normalizeResourceIds(["b", "a", "b"])).toEqual(["a", "b"]);
  });
  it("distinguishes different sets, including ones that join to the same text", () => {
    expect(resourceKey(["a,b"])).not.toBe(resourceKey(["a", "b"]));
    expect(resourceKey(["a"])).not.toBe(resourceKey(["a", "b"]));
  });
});
