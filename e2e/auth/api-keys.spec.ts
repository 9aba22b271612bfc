import { expect, test } from "@playwright/test";
import { signIn } from "../helpers";

test("an admin creates a key (shown once), AOD can use it, and revoking it locks AOD out", async ({ page, request }) => {
  await signIn(page, "admin");
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name").fill("AOD staging");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-key").textContent())!.trim();
  expect(key).toMatch(/^aam_[A-Za-z0-9]{8}_/);
  await expect(page.getByRole("cell", { name: "AOD staging", exact: true })).toBeVisible();

  const ok = await request.get("/api/metrics/funnel", { headers: { authorization: `Bearer ${key}` } });
  expect(ok.status()).toBe(200);

  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Revoke AOD staging" }).click();
  await expect(page.getByRole("row", { name: /AOD staging/ }).getByText("Revoked")).toBeVisible();
  const refused = await request.get("/api/metrics/funnel", { headers: { authorization: `Bearer ${key}` } });
  expect(refused.status()).toBe(401);

  // after a reload the key is never shown again, only its prefix
  await page.reload();
  await expect(page.getByText(key)).toHaveCount(0);
});

test("an exec's browser session cannot create keys: the server refuses", async ({ page }) => {
  await signIn(page, "exec");
  const res = await page.request.post("/api/trpc/apiKeys.create", { data: { json: { name: "sneaky" } } });
  expect(res.status()).toBe(403);
});
