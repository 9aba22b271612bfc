/**
 * Hardening against the built app: security headers with a nonce CSP under which the app still
 * renders and hydrates, the tRPC batch cap, the sign-in throttle in words, and "sign out
 * everywhere" ending another browser's session.
 */
import { expect, test } from "@playwright/test";
import { E2E_USERS } from "../../playwright.config";
import { signIn } from "../helpers";

test("pages carry a nonce CSP and the security headers, and still render and hydrate under them", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(m.text())) violations.push(m.text());
  });
  const res = await page.goto("/login");
  const h = res!.headers();
  expect(h["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}' 'strict-dynamic'/);
  expect(h["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(h["x-content-type-options"]).toBe("nosniff");
  expect(h["referrer-policy"]).toBe("same-origin");
  expect(h["x-frame-options"]).toBe("DENY");
  expect(h["strict-transport-security"]).toBeUndefined(); // plain http here
  await signIn(page, "admin");
  // client components ran: the live system status comes from a tRPC query in the browser
  await expect(page.getByTestId("system-status")).toContainText("Database is up");
  expect(violations).toEqual([]);
});

test("HSTS when the app is reached over https through a proxy", async ({ request }) => {
  const res = await request.get("/login", { headers: { "x-forwarded-proto": "https" } });
  // AUTH_URL (http here) decides when it is set; the header decides only without it
  const expected = new URL(process.env.AUTH_URL ?? "http://127.0.0.1").protocol === "https:" ? "max-age=31536000; includeSubDomains" : undefined;
  expect(res.headers()["strict-transport-security"]).toBe(expected);
});

test("a tRPC batch over 10 procedures is refused in words before it runs", async ({ request }) => {
  const paths = Array.from({ length: 11 }, () => "system.health").join(",");
  const res = await request.get(`/api/trpc/${paths}?batch=1&input=%7B%7D`);
  expect(res.status()).toBe(400);
  expect((await res.json()).error.message).toBe("A batch may hold at most 10 procedures; this one has 11.");
  const huge = Array.from({ length: 1000 }, () => "system.health").join(",");
  expect((await request.get(`/api/trpc/${huge}?batch=1`)).status()).toBe(414);
});

test("sign-in is throttled per account, in words", async ({ page }) => {
  // a fresh page per attempt: each answer is that attempt's own
  const attempt = async (password: string) => {
    await page.goto("/login");
    await page.getByLabel("Email").fill("nobody-throttled@e2e.test");
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  };
  for (let i = 0; i < 5; i++) {
    await attempt(`wrong-${i}`);
    await expect(page.getByText("That email and password do not match an account.")).toBeVisible();
  }
  await attempt("wrong-again");
  await expect(page.getByText("Too many sign-in attempts; try again in 15 minutes.")).toBeVisible();
});

test("sign out everywhere ends the session in another browser too", async ({ browser }) => {
  const a = await browser.newContext();
  const b = await browser.newContext();
  const pa = await a.newPage();
  const pb = await b.newPage();
  await signIn(pa, "exec");
  await signIn(pb, "exec");
  await pa.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(pa.getByText("You are signed out on every device.")).toBeVisible();
  await pb.reload();
  await expect(pb).toHaveURL(/\/login/);
  // a fresh sign-in works again
  await signIn(pb, "exec");
  await expect(pb.getByRole("banner")).toContainText(E2E_USERS.exec.email);
  await a.close();
  await b.close();
});
