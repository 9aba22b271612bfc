/** The browser finder used by `npm test` and playwright.config.ts (scripts/lib/chromium.ts). */
import { describe, expect, it } from "vitest";
import { findChromium } from "../scripts/lib/chromium";

const only = (...present: string[]) => (p: string) => present.includes(p);

describe("findChromium", () => {
  it("prefers CHROMIUM_PATH, then the system's Chromium, then Playwright's own", () => {
    const sys = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
    const pw = () => ["/home/u/.cache/ms-playwright/chromium-1/chrome-linux64/chrome"];
    expect(findChromium({ chromiumPath: "/opt/c/chrome", exists: only("/opt/c/chrome", "/usr/bin/chromium"), system: sys, playwright: pw })).toEqual({ path: "/opt/c/chrome", source: "CHROMIUM_PATH" });
    expect(findChromium({ exists: only("/usr/bin/chromium-browser", pw()[0]!), system: sys, playwright: pw })).toEqual({ path: "/usr/bin/chromium-browser", source: "system" });
    expect(findChromium({ exists: only(pw()[0]!), system: sys, playwright: pw })).toEqual({ path: pw()[0], source: "playwright" });
  });

  it("without any, fails with one sentence naming the two ways to get one", () => {
    const r = findChromium({ exists: () => false, system: ["/usr/bin/chromium"], playwright: () => ["/x/chrome"] });
    expect("error" in r).toBe(true);
    const error = (r as { error: string }).error;
    expect(error).not.toContain("\n");
    expect(error).toMatch(/\.$/);
    expect(error).toContain("apt-get install chromium");
    expect(error).toContain("npx playwright install chromium");
    expect(error).toContain("CHROMIUM_PATH");
  });

  it("a CHROMIUM_PATH that does not exist is an error, not a silent fallback", () => {
    const r = findChromium({ chromiumPath: "/nope/chrome", exists: only("/usr/bin/chromium"), system: ["/usr/bin/chromium"], playwright: () => [] });
    expect((r as { error: string }).error).toMatch(/^CHROMIUM_PATH=\/nope\/chrome does not exist: .*apt-get install chromium.*npx playwright install chromium.*\.$/);
  });
});
