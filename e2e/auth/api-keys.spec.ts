import { expect, test } from "@playwright/test";
import { signIn, trpcMutation } from "../helpers";

test("an admin creates a key (shown once), AOD can use it, and revoking it locks AOD out", async ({ page, request }) => {
  await signIn(page, "admin");
  await page.getByRole("link", { name: "API keys" }).click();
  // a key needs a name: the form says so in words, never the schema's JSON
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByText("Give the key a name, e.g. “AOD production”.", { exact: true })).toBeVisible();
  await expect(page.locator("main")).not.toContainText('"code"');
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

  // a key another admin revoked meanwhile: the refusal in words, and the row shows it revoked
  await page.getByLabel("New key name").fill("AOD spare");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByRole("cell", { name: "AOD spare", exact: true })).toBeVisible();
  const list = await page.request.get(`/api/trpc/apiKeys.list`);
  const spare = ((await list.json()) as { result: { data: { json: { id: string; name: string }[] } } }).result.data.json.find((k) => k.name === "AOD spare")!;
  expect((await trpcMutation(page, "apiKeys.revoke", { id: spare.id })).status).toBe(200);
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Revoke AOD spare" }).click();
  await expect(page.locator("main").getByRole("alert")).toHaveText("This key is already revoked, or no longer exists; the list now shows its state.");
  await expect(page.getByRole("row", { name: /AOD spare/ }).getByText("Revoked")).toBeVisible();

  // after a reload the key is never shown again, only its prefix
  await page.reload();
  await expect(page.getByText(key)).toHaveCount(0);
});

test("an exec's browser session cannot create keys: the server refuses", async ({ page }) => {
  await signIn(page, "exec");
  const res = await page.request.post("/api/trpc/apiKeys.create", { data: { json: { name: "sneaky" } } });
  expect(res.status()).toBe(403);
});
