import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HEAP_MB, withHeapLimit } from "./heap";

describe("withHeapLimit", () => {
  it("adds the limit, keeps other options, and never overrides one the operator set", () => {
    expect(withHeapLimit(undefined)).toBe(`--max-old-space-size=${HEAP_MB}`);
    expect(withHeapLimit("--require /x/guard.cjs")).toBe(`--require /x/guard.cjs --max-old-space-size=${HEAP_MB}`);
    expect(withHeapLimit("--max-old-space-size=1024 --require g")).toBe("--max-old-space-size=1024 --require g");
  });

  it("is the limit `npm run worker` starts with", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.worker).toContain(`--max-old-space-size=${HEAP_MB} `);
  });
});
