/**
 * The browser for the Playwright tests: CHROMIUM_PATH, else Debian's/Ubuntu's Chromium, else
 * Playwright's own (`npx playwright install chromium`, in ~/.cache/ms-playwright). When there is
 * none, the error is one sentence naming the ways to get one — the browser tests never skip silently.
 */
import fs from "node:fs";
import { createRequire } from "node:module";

export const SYSTEM_CHROMIUMS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

const HOW = "install one with `apt-get install chromium` (Debian/Ubuntu) or `npx playwright install chromium`, or set CHROMIUM_PATH to a Chromium or Chrome binary (`npm test -- --unit` runs the suite without the browser tests)";

export type ChromiumLookup = { path: string; source: "CHROMIUM_PATH" | "system" | "playwright" } | { error: string };

/** Where Playwright's own Chromium would be (its cache, or PLAYWRIGHT_BROWSERS_PATH). */
export function playwrightChromium(): string[] {
  try {
    const pw = createRequire(import.meta.url)("playwright-core") as { chromium: { executablePath(): string } };
    return [pw.chromium.executablePath()];
  } catch {
    return [];
  }
}

export function findChromium(opts: { chromiumPath?: string; exists?: (p: string) => boolean; system?: string[]; playwright?: () => string[] } = {}): ChromiumLookup {
  const exists = opts.exists ?? ((p: string) => fs.existsSync(p));
  if (opts.chromiumPath) {
    if (exists(opts.chromiumPath)) return { path: opts.chromiumPath, source: "CHROMIUM_PATH" };
    return { error: `CHROMIUM_PATH=${opts.chromiumPath} does not exist: point it at a Chromium or Chrome binary, or unset it and install one with \`apt-get install chromium\` (Debian/Ubuntu) or \`npx playwright install chromium\`.` };
  }
  for (const p of opts.system ?? SYSTEM_CHROMIUMS) if (exists(p)) return { path: p, source: "system" };
  for (const p of (opts.playwright ?? playwrightChromium)()) if (exists(p)) return { path: p, source: "playwright" };
  return { error: `No Chromium found for the browser tests: ${HOW}.` };
}
