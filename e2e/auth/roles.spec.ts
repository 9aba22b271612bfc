import { expect, test } from "@playwright/test";
import { E2E_USERS } from "../../playwright.config";
import { signIn } from "../helpers";


test("signed-out visitors are sent to the login page", async ({ page }) => {
  await page.goto("/admin/api-keys");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeVisible();
});

test("a wrong password is refused in words", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(E2E_USERS.admin.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText("That email and password do not match an account.")).toBeVisible();
});

test("an admin sees the admin pages", async ({ page }) => {
  await signIn(page, "admin");
  await expect(page.getByTestId("system-status")).toContainText("Database is up");
  await page.getByRole("link", { name: "API keys" }).click();
  await expect(page.getByRole("heading", { name: "API keys for AOD" })).toBeVisible();
  await expect(page.getByRole("cell", { name: /aam_e2etest1_/ })).toBeVisible();
});

test("an exec sees the funnel but no admin page, and the server refuses them too", async ({ page }) => {
  await signIn(page, "exec");
  await expect(page.getByRole("banner").getByText("Executive (read-only)")).toBeVisible();
  await expect(page.getByRole("link", { name: "API keys" })).toHaveCount(0);
  const res = await page.goto("/admin/api-keys");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You need the admin role for this page" })).toBeVisible();
  await expect(page.getByText(/aam_e2etest1_/)).toHaveCount(0);
});

test("GET /api/health answers 200 with the database status", async ({ request }) => {
  const res = await request.get("/api/health");
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.database.status).toBe("up");
  expect(body.database.migrations).toBeGreaterThanOrEqual(1);
});
