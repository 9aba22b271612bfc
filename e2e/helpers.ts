import { expect, type Page } from "@playwright/test";
import { E2E_USERS } from "../playwright.config";

export async function signIn(page: Page, who: keyof typeof E2E_USERS) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(E2E_USERS[who].email);
  await page.getByLabel("Password").fill(E2E_USERS[who].password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Onboarding funnel" })).toBeVisible();
}
