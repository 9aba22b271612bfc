import { expect, test, type Page } from "@playwright/test";
import { startSsoIssuer } from "./sso-server";

let issuer: Awaited<ReturnType<typeof startSsoIssuer>> | undefined;
test.beforeAll(async () => {
  issuer = await startSsoIssuer();
});
test.afterAll(async () => {
  await issuer?.close();
});

async function signInWithSso(page: Page, login: string) {
  await page.route(/fonts\.(googleapis|gstatic)\.com/, (r) => r.abort());
  await page.goto("/login");
  await page.getByRole("button", { name: "Sign in with E2E IdP" }).click();
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("any-password");
  await page.getByRole("button", { name: /sign-?in/i }).click();
  await page.getByRole("button", { name: /continue/i }).click();
  await expect(page.getByRole("heading", { name: "Onboarding funnel" })).toBeVisible();
}

test("single sign-on: a listed admin email gets the admin role on first sign-in", async ({ page }) => {
  await signInWithSso(page, "sso-admin");
  await expect(page.getByRole("banner")).toContainText("sso-admin@e2e.test · Admin");
  await expect(page.getByRole("link", { name: "API keys" })).toBeVisible();
});

test("single sign-on: anyone else signs in read-only, as an exec", async ({ page }) => {
  await signInWithSso(page, "sso-viewer");
  await expect(page.getByRole("banner")).toContainText("sso-viewer@e2e.test · Executive (read-only)");
  await expect(page.getByRole("link", { name: "Connections" })).toHaveCount(0);
  expect((await page.goto("/connections"))?.status()).toBe(403);
});
