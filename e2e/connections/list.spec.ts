import { expect, test, type Page } from "@playwright/test";
import pg from "pg";
import { signIn } from "../helpers";

async function sql(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** Runs an interaction and returns how long until the table showed its result. */
async function timed(page: Page, act: () => Promise<void>, expectText: string): Promise<number> {
  const t0 = Date.now();
  await act();
  await expect(page.getByTestId("total")).toContainText(expectText);
  return Date.now() - t0;
}

test("the connection list filters, sorts and pages through 10,000 connections, each interaction under 1 s", async ({ page }) => {
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
  await page.goto("/connections?namespace=load");
  await expect(page.getByTestId("total")).toContainText("10,000 connections");
  const times: number[] = [];
  times.push(await timed(page, async () => void (await page.getByLabel("Status").selectOption("HEALING")), "1,429 connections"));
  times.push(await timed(page, async () => void (await page.getByLabel("Source type").selectOption("github")), "286 connections"));
  times.push(await timed(page, async () => void (await page.getByLabel("Risk").selectOption("high")), "95 connections"));
  times.push(await timed(page, () => page.getByLabel("Owner").fill("owner7@"), "connections"));
  await page.getByLabel("Owner").fill("");
  await page.getByLabel("Risk").selectOption("");
  await page.getByLabel("Source type").selectOption("");
  await page.getByLabel("Status").selectOption("");
  await expect(page.getByTestId("total")).toContainText("10,000 connections");
  times.push(await timed(page, () => page.getByRole("button", { name: "Next" }).click(), "page 2 of 400"));
  times.push(await timed(page, () => page.getByRole("button", { name: /Source/ }).click(), "page 1 of 400"));
  times.push(await timed(page, () => page.getByPlaceholder("Search type, reason or resource id").fill("res-4242"), "1 connection"));
  await expect(page.getByTestId("connection-rows").getByRole("row")).toHaveCount(1);
  // the debounce on text inputs is 250 ms; everything else is the server's answer
  for (const t of times) expect(t).toBeLessThan(1_000);
});
