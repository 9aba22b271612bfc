import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { E2E_API_KEY } from "../../playwright.config";
import { signIn } from "../helpers";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };
const shots = path.resolve(import.meta.dirname, "..", "screenshots");
const sample = (name: string) => JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "..", "..", "seeds", "intents", name), "utf8"));


async function funnel(request: APIRequestContext) {
  return (await request.get("/api/metrics/funnel?namespace=autonomy", { headers: auth })).json();
}

test.describe.configure({ mode: "serial" });

test("intents posted through the REST API show up on the exec's funnel with the same numbers", async ({ page, request }) => {
  const active = await request.post("/api/connections/onboard", { headers: auth, data: sample("02-filesource-sandbox.json") });
  expect(active.status()).toBe(200);
  expect((await active.json()).status).toBe("ACTIVE");
  const unsupported = await request.post("/api/connections/onboard", { headers: auth, data: { ...sample("02-filesource-sandbox.json"), source_type: "myspace" } });
  expect(unsupported.status()).toBe(409);
  const consent = await request.post("/api/connections/onboard", { headers: auth, data: { ...sample("04-github-sandbox.json"), resource_ids: ["consent-org"], credential_locator: "consent:github" } });
  expect((await consent.json()).status).toBe("AWAITING_CREDENTIALS");

  const numbers = await funnel(request);
  expect(numbers).toMatchObject({ received: 3, eligible: 2, active: 1, awaiting_credentials: 1, unsupported_type: 1 });

  await signIn(page, "exec");
  await expect(page.getByTestId("stage-received")).toHaveText(String(numbers.received));
  await expect(page.getByTestId("stage-eligible")).toHaveText(String(numbers.eligible));
  await expect(page.getByTestId("stage-active")).toHaveText(String(numbers.active));
  await expect(page.getByTestId("bucket-awaiting_credentials")).toHaveText("1");
  await expect(page.getByTestId("coverage")).toHaveText(`${(numbers.coverage * 100).toFixed(1)}%`);
  await expect(page.getByTestId("slo-state")).toHaveText("SLO missed");
  // the day-one chart's figures as text, by UTC day
  await expect(page.getByRole("heading", { name: "Day-one coverage by day first received (UTC)" })).toBeVisible();
  await page.getByText("The figures by day").click();
  const today = page.getByTestId("day-one-table").getByRole("row").filter({ hasText: new Date().toISOString().slice(0, 10) });
  await expect(today).toContainText(`${numbers.active} of ${numbers.eligible} eligible`);
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, "dashboard-exec.png"), fullPage: true });

  // live: a new ACTIVE connection appears without a reload
  await request.post("/api/connections/onboard", { headers: auth, data: sample("01-postgres-sandbox.json") });
  await expect(page.getByTestId("stage-active")).toHaveText("2", { timeout: 15_000 });

  // an exec is refused the admin data on the server too
  const list = await page.request.get(`/api/trpc/connections.list?input=${encodeURIComponent(JSON.stringify({ json: { namespace: "autonomy" } }))}`);
  expect(list.status()).toBe(403);
  const heal = await page.request.post("/api/trpc/connections.healAll", { data: { json: { namespace: "autonomy" } } });
  expect(heal.status()).toBe(403);
});

test("an admin finds the connection in the list and opens its page", async ({ page }) => {
  await signIn(page, "admin");
  await page.getByRole("link", { name: "Connections" }).click();
  await expect(page.getByRole("heading", { name: "Connections" })).toBeVisible();
  await page.getByLabel("Status").selectOption("ACTIVE");
  await expect(page.getByTestId("total")).toContainText("2 connections");
  await page.getByRole("link", { name: "filesource" }).click();
  await expect(page.getByTestId("status-reason")).toHaveText("Onboarded successfully in Safe Mode");
  await expect(page.getByTestId("first-sync")).toContainText("20 records");
  await expect(page.getByTestId("timeline")).toContainText("first sync");
  await expect(page.getByText("env:SANDBOX_FILES_TOKEN")).toBeVisible();
  await expect(page.getByText("Sandbox source")).toBeVisible();
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, "connection-page.png"), fullPage: true });
});

test("make smoke-90 passes against the running app", async ({ baseURL }) => {
  const root = path.resolve(import.meta.dirname, "..", "..");
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/smoke-90.ts"], { cwd: root, env: { ...process.env, SMOKE_URL: baseURL, NODE_OPTIONS: "" }, encoding: "utf8", timeout: 120_000 });
  expect(r.stdout).toContain("smoke-90 PASSED");
  expect(r.status).toBe(0);
});
