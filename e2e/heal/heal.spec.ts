import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { E2E_API_KEY } from "../../playwright.config";
import { signIn, sql } from "../helpers";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };

test("an admin heals a HEALING connection once its source is fixed, and demo connections are unchanged", async ({ page, request }) => {
  const demoBefore = JSON.stringify(await sql("SELECT * FROM connections WHERE namespace = 'demo' ORDER BY id"));
  await sql("DROP TABLE IF EXISTS sandbox.arrivals");
  const intent = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "..", "..", "seeds", "intents", "01-postgres-sandbox.json"), "utf8"));
  const res = await request.post("/api/connections/onboard", {
    headers: auth,
    data: { ...intent, resource_ids: ["arrivals"], intent_id: "heal-e2e", config: { schemas: ["sandbox"] } },
  });
  const first = await res.json();
  expect(first.status).toBe("HEALING");

  // the table appears (as it would once the source's owner finishes a migration)
  await sql("CREATE TABLE sandbox.arrivals AS SELECT g AS id, 'flight ' || g AS name FROM generate_series(1, 30) g");
  await sql("GRANT SELECT ON sandbox.arrivals TO aam_sandbox_ro");

  await signIn(page, "admin");
  await page.goto(`/connections/${first.connection_id}`);
  // a named table that does not exist is never ACTIVE: HEALING, naming it
  await expect(page.getByTestId("status-reason")).toContainText('"arrivals"');
  await page.getByRole("button", { name: "Heal now" }).click();
  await expect(page.getByRole("status")).toHaveText("Healed: the connection is active again.");
  await expect(page.getByTestId("status-reason")).toHaveText("Onboarded successfully in Safe Mode");
  await expect(page.getByTestId("first-sync")).toContainText("20 records");
  const after = await (await request.get(`/api/connections/${first.connection_id}`, { headers: auth })).json();
  expect(after.status).toBe("ACTIVE");
  expect(JSON.stringify(await sql("SELECT * FROM connections WHERE namespace = 'demo' ORDER BY id"))).toBe(demoBefore);
});

test("Heal all shows, live, how many of the namespace's connections are still onboarding, then how they ended", async ({ page, request }) => {
  const intent = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "..", "..", "seeds", "intents", "01-postgres-sandbox.json"), "utf8"));
  // three connections of a namespace of their own, onboarded, then marked HEALING (as after a source outage)
  for (const table of ["customers", "orders", "tickets"]) {
    const r = await request.post("/api/connections/onboard", { headers: auth, data: { ...intent, namespace: "heal-all-e2e", resource_ids: [table], intent_id: `heal-all-${table}`, config: { schemas: ["sandbox"] } } });
    expect((await r.json()).status).toBe("ACTIVE");
  }
  await sql("UPDATE connections SET status = 'HEALING', status_reason = 'The source stopped answering' WHERE namespace = 'heal-all-e2e'");

  await signIn(page, "admin");
  await page.goto("/connections?namespace=heal-all-e2e");
  await page.getByRole("button", { name: "Heal all healing connections in “heal-all-e2e”" }).click();
  const progress = page.getByTestId("heal-progress");
  await expect(progress).toContainText("Healing 3 connections in “heal-all-e2e”");
  await expect(progress).toContainText("None of the namespace’s connections is onboarding any more: 3 active, 0 still healing, 0 in error.", { timeout: 30_000 });
});
