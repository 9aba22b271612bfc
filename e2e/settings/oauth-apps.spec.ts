import { expect, test } from "@playwright/test";
import { E2E_USERS } from "../../playwright.config";
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

// A refused field says so on itself, like the destination forms: the token URL of an instance's
// client on another host, and an invite to an e-mail that already has an account.
test("the OAuth app and invite forms mark the field the server refused, with its sentence as the field's description", async ({ page }) => {
  const run = Date.now().toString(36);
  const clientId = `e2e-zendesk-${run}`;
  const instance = `acme-${run}.zendesk.com`;
  await signIn(page, "admin");
  await page.goto("/admin/settings");
  const form = page.getByRole("form", { name: "Add OAuth app" });
  await form.getByLabel("Vendor").selectOption({ label: "Zendesk Support" });
  await form.getByLabel("Instance host (required)").fill(instance);
  await form.getByLabel("Client id").fill(clientId);
  await form.getByLabel("Client secret or private key").fill(SECRET);
  await form.getByLabel("Token URL (optional)").fill("https://evil.example/oauth/tokens");
  await form.getByRole("button", { name: "Add OAuth app" }).click();
  const tokenUrl = form.getByLabel("Token URL (optional)");
  await expect(tokenUrl).toHaveAttribute("aria-invalid", "true");
  await expect(tokenUrl).toHaveAccessibleDescription(new RegExp(`^The token URL must be on the instance host ${instance.replace(/\./g, "\\.")}`));
  await expect(form.getByLabel("Instance host (required)")).not.toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("row").filter({ hasText: clientId })).toHaveCount(0);
  // mended, it is added
  await tokenUrl.fill("");
  await form.getByRole("button", { name: "Add OAuth app" }).click();
  const row = page.getByRole("row").filter({ hasText: clientId });
  await expect(row).toHaveCount(1);
  await expect(form.locator("[aria-invalid=\"true\"]")).toHaveCount(0);
  page.once("dialog", (d) => void d.accept());
  await row.getByRole("button", { name: /^Remove/ }).click();
  await expect(row).toHaveCount(0);

  // the e-mail of someone who already has an account: said under the e-mail field
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  const email = page.getByRole("textbox", { name: "Email" });
  const taken = E2E_USERS.exec.email;
  await email.fill(taken);
  await page.getByRole("button", { name: "Invite" }).click();
  await expect(email).toHaveAttribute("aria-invalid", "true");
  await expect(email).toHaveAccessibleDescription(`${taken} already has an account (an email belongs to one account across all tenants).`);
});
