import { expect, test } from "@playwright/test";
import { signIn, sql } from "../helpers";

// A source with more streams than the connection page lists says how many it has (a namespace of its own: the funnel spec counts autonomy).
test("the connection page lists 20 discovered streams and says how many there are", async ({ page }) => {
  const streams = Array.from({ length: 31 }, (_, i) => ({ name: `table_${String(i).padStart(2, "0")}`, fields: [{ name: "id", type: "integer" }] }));
  const [row] = await sql<{ id: string }>(
    `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, reachable, scopes_mode,
       credential_locator, risk_level, evidence, owner, discovered_schema, updated_at)
     SELECT gen_random_uuid(), tenant_id, 'streams-e2e', 'postgres', ARRAY['streams-e2e'], 'streams-e2e', 'ACTIVE', 'Onboarded successfully in Safe Mode', true, 'safe_readonly',
       'env:X', 'low', '{}'::jsonb, '{}'::jsonb, $1::jsonb, now()
     FROM users WHERE email = 'admin@e2e.test'
     ON CONFLICT (tenant_id, namespace, source_type, resource_key) DO UPDATE SET discovered_schema = EXCLUDED.discovered_schema
     RETURNING id`,
    [JSON.stringify({ streams })],
  );
  await signIn(page, "admin");
  await page.goto(`/connections/${row!.id}`);
  await expect(page.getByTestId("streams-shown")).toHaveText("The first 20 of 31 streams");
  await expect(page.getByText("table_19", { exact: true })).toBeVisible();
  await expect(page.getByText("table_20", { exact: true })).toHaveCount(0);
});
