/**
 * Single sign-on through a local OpenID Connect issuer (oidc-provider), in Chromium against the
 * built app: the authorization and token requests carry the same redirect URI (AUTH_URL), a
 * listed admin email becomes an admin, anyone else an exec, and an email the IdP does not call
 * verified is refused in words.
 */
import { expect, test, type Page } from "@playwright/test";
import { E2E_SSO } from "../../playwright.config";
import { startSsoIssuer, type SsoIssuer } from "./sso-server";

let issuer: SsoIssuer | undefined;
test.beforeAll(async () => {
  issuer = await startSsoIssuer();
});
test.afterAll(async () => {
  await issuer?.close();
});

async function throughIssuer(page: Page, login: string) {
  await page.route(/fonts\.(googleapis|gstatic)\.com/, (r) => r.abort());
  await page.goto("/login");
  await page.getByRole("button", { name: `Sign in with ${E2E_SSO.name}` }).click();
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("any-password");
  await page.getByRole("button", { name: /sign-?in/i }).click();
  await page.getByRole("button", { name: /continue/i }).click();
}

test("single sign-on: a listed admin email gets the admin role, with one redirect URI throughout", async ({ page }) => {
  await throughIssuer(page, "sso-admin");
  await expect(page.getByRole("heading", { name: "Onboarding funnel" })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText("sso-admin@e2e.test · Admin");
  await expect(page.getByRole("link", { name: "API keys" })).toBeVisible();
  expect(issuer!.authorizeRedirectUris.at(-1)).toBe(E2E_SSO.redirectUri);
  expect(issuer!.tokenRedirectUris.at(-1)).toBe(E2E_SSO.redirectUri);
});

test("single sign-on: anyone else signs in read-only, as an exec", async ({ page }) => {
  await throughIssuer(page, "sso-viewer");
  await expect(page.getByRole("heading", { name: "Onboarding funnel" })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText("sso-viewer@e2e.test · Executive (read-only)");
  await expect(page.getByRole("link", { name: "Connections" })).toHaveCount(0);
  expect((await page.goto("/connections"))?.status()).toBe(403);
});

test("single sign-on: an email the IdP does not call verified is refused in words", async ({ page }) => {
  await throughIssuer(page, "unverified");
  await expect(page).toHaveURL(/\/login\?error=sso_email_not_verified/);
  await expect(page.getByText("The identity provider did not confirm that your email address is verified")).toBeVisible();
});
