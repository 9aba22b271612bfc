import { expect, test } from "@playwright/test";
import { signIn } from "../helpers";

const SECRET = "e2e-oauth-client-secret-7f1c9a";

// The Settings page's OAuth apps: what a client serves, in words (with the locator that uses it),
// the secret kept write-only, each change asked first and audited.
test("an admin registers OAuth apps for consent and for a service principal, sees what each serves in words, and removes them", async ({ page }) => {
  await signIn(page, "admin");
  await page.goto("/admin/settings");
  const form = page.getByRole("form", { name: "Add OAuth app" });
  const add = async (principal: string, clientId: string) => {
    await form.getByLabel("Vendor").selectOption({ label: "Slack" });
    await form.getByLabel("Service principal (sp:<name>, empty: consent)").fill(principal);
    await form.getByLabel("Client id").fill(clientId);
    await form.getByLabel("Client secret or private key").fill(SECRET);
    await form.getByRole("button", { name: "Add OAuth app" }).click();
  };
  await add("", "e2e-slack-consent-client");
  const consentRow = page.getByRole("row").filter({ hasText: "e2e-slack-consent-client" });
  await expect(consentRow.getByRole("cell").nth(2)).toHaveText("Admin consentconsent:slack");
  await expect(consentRow.getByRole("cell").nth(4)).toHaveText("kept (encrypted)");
  await add("reporting", "e2e-slack-sp-client");
  const spRow = page.getByRole("row").filter({ hasText: "e2e-slack-sp-client" });
  await expect(spRow.getByRole("cell").nth(2)).toHaveText("Service principal “reporting”sp:reporting");
  // the secret went in and never comes out: not on the page
  expect(await page.content()).not.toContain(SECRET);

  // removal is asked first; dismissing keeps the app
  page.once("dialog", (d) => void d.dismiss());
  await spRow.getByRole("button", { name: /^Remove/ }).click();
  await expect(spRow).toHaveCount(1);
  for (const row of [spRow, consentRow]) {
    page.once("dialog", (d) => void d.accept());
    await row.getByRole("button", { name: /^Remove/ }).click();
    await expect(row).toHaveCount(0);
  }
  await page.goto("/admin/audit");
  await expect(page.getByRole("main")).toContainText("Added an OAuth app");
  await expect(page.getByRole("main")).toContainText("Removed an OAuth app");
});
