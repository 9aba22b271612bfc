import { expect, test } from "@playwright/test";
import { signIn, sql } from "../helpers";

// Speed is the bench's (npm run bench:million: every filter × sort × page at 10k, 100k and 1M
// connections, README section 4); this spec checks what each interaction shows, not how fast.
test("the connection list filters, sorts and pages through 10,000 connections", async ({ page }) => {
  await sql(`
    INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, reachable, scopes_mode,
      credential_locator, risk_level, evidence, owner, updated_at)
    SELECT gen_random_uuid(), (SELECT id FROM tenants WHERE slug = 'default'), 'load',
      (ARRAY['github','slack','jira','salesforce','postgres'])[1 + g % 5], ARRAY['res-' || g], md5('load' || g),
      (ARRAY['ACTIVE','ACTIVE','ACTIVE','HEALING','NETWORK_BLOCKED','AWAITING_CREDENTIALS','ERROR'])[1 + g % 7]::"ConnectionStatus",
      g % 7 < 4, 'safe_readonly', 'env:X', (ARRAY['low','med','high'])[1 + g % 3]::"RiskLevel",
      '{"status":"Sanctioned","source":"IdP","ts":"2026-11-20T09:00:00Z"}'::jsonb,
      jsonb_build_object('user', 'owner' || (g % 50) || '@example.com', 'confidence', 0.9, 'why', 'load'), now() - g * interval '1 second'
    FROM generate_series(1, 10000) g
    ON CONFLICT DO NOTHING`);
  await sql("ANALYZE connections");

  await signIn(page, "admin");
  // the funnel reads counts as people do
  await page.goto("/?namespace=load");
  await expect(page.getByTestId("stage-received")).toHaveText("10,000");
  await page.goto("/connections?namespace=load");
  await expect(page.getByTestId("total")).toContainText("10,000 connections");
  // the filter offers the statuses in the badges' words
  await expect(page.getByLabel("Status").locator("option")).toContainText(["Any status", "Active", "Onboarding", "Awaiting credentials", "Network blocked"]);
  await page.getByLabel("Status").selectOption("HEALING");
  await expect(page.getByTestId("total")).toContainText("1,429 connections");
  await page.getByLabel("Source type").selectOption("github");
  await expect(page.getByTestId("total")).toContainText("286 connections");
  await page.getByLabel("Risk").selectOption("high");
  await expect(page.getByTestId("total")).toContainText("95 connections");
  // owner7@ is every 50th row from 7, none of them github (every 5th from 0)
  await page.getByLabel("Owner").fill("owner7@");
  await expect(page.getByText("No connection matches these filters.")).toBeVisible();
  await expect(page.getByTestId("total")).toHaveCount(0);
  await page.getByLabel("Source type").selectOption("");
  await expect(page.getByTestId("total")).toHaveText(/^9 connections /);
  await page.getByLabel("Owner").fill("");
  await page.getByLabel("Risk").selectOption("");
  await page.getByLabel("Source type").selectOption("");
  await page.getByLabel("Status").selectOption("");
  await expect(page.getByTestId("total")).toContainText("10,000 connections");
  // pages forwards and back: each Next shows the rows after the last one shown (a seek from it),
  // Previous the page before as it was
  const firstRow = () => page.getByTestId("connection-rows").getByRole("row").first();
  const top1 = (await firstRow().textContent())!;
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByTestId("total")).toContainText("page 2 of 400");
  await expect(firstRow()).not.toHaveText(top1);
  const top2 = (await firstRow().textContent())!;
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByTestId("total")).toContainText("page 3 of 400");
  await expect(firstRow()).not.toHaveText(top2);
  await expect(firstRow()).not.toHaveText(top1);
  await page.getByRole("button", { name: "Previous" }).click();
  await expect(page.getByTestId("total")).toContainText("page 2 of 400");
  await expect(firstRow()).toHaveText(top2);
  await page.getByRole("button", { name: "Previous" }).click();
  await expect(firstRow()).toHaveText(top1);
  await expect(page.getByRole("button", { name: "Previous" })).toBeDisabled();
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByTestId("total")).toContainText("page 2 of 400");
  // another sort starts again from page 1 (the cursor of page 2 belongs to the old sort: never sent with the new one)
  await page.getByRole("button", { name: /Source/ }).click();
  await expect(page.getByTestId("total")).toContainText("page 1 of 400");
  await expect(page.getByText(/Could not load connections/)).toHaveCount(0);
  await page.getByPlaceholder("Search type, reason or resource id").fill("res-4242");
  await expect(page.getByTestId("total")).toContainText("1 connection");
  await expect(page.getByTestId("connection-rows").getByRole("row")).toHaveCount(1);

  // too short to search inside text: said in words; an owner is applied only once it can be
  await page.getByPlaceholder("Search type, reason or resource id").fill("");
  await page.getByLabel("Owner").fill("ow");
  await expect(page.getByRole("status").filter({ hasText: "Type at least 3 letters or digits in a row of the owner's address." })).toBeVisible();
  await expect(page.getByTestId("total")).toContainText("10,000 connections");
  await page.getByLabel("Owner").fill("owner7@");
  await expect(page.getByTestId("total")).toContainText("200 connections");
  await expect(page.getByRole("status").filter({ hasText: "owner's address" })).toHaveCount(0);
  await page.getByLabel("Owner").fill("");
  // short free text: the hint, and what it still finds (the github rows, by their type's name)
  await page.getByPlaceholder("Search type, reason or resource id").fill("gi");
  await expect(page.getByRole("status").filter({ hasText: "to search the status text" })).toBeVisible();
  await expect(page.getByTestId("total")).toContainText("2,000 connections");
});
