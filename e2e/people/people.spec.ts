/**
 * People per tenant in the browser (issue 12): invite → set a password → sign in as an exec who
 * sees the funnel only; an admin demotes another admin and disables a user, who is then refused;
 * the Audit page shows who did it; a tenant made by `npm run tenants -- create` has an admin who
 * sees only that tenant's data and, being its last admin, cannot demote themselves.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { expect, test, type Browser } from "@playwright/test";
import { E2E_API_KEY, E2E_USERS } from "../../playwright.config";
import { inviteFromUsersPage, setPasswordFromLink, signIn, signInWith } from "../helpers";

const rand = () => randomBytes(3).toString("hex");
const PASSWORD = "lantern-orchid-meadow-58";

/** A signed-out browser of its own (the admin's stays signed in). */
async function freshPage(browser: Browser) {
  const context = await browser.newContext();
  return { page: await context.newPage(), close: () => context.close() };
}

test("an admin invites an exec, who sets a password from the link, signs in and sees the funnel only", async ({ page, browser }) => {
  const email = `new-exec-${rand()}@e2e.test`;
  await signIn(page, "admin");
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  const link = await inviteFromUsersPage(page, email, "Executive (read-only)");
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{40,}$/);
  await expect(page.getByRole("row").filter({ hasText: email })).toContainText("Executive (read-only)");

  const guest = await freshPage(browser);
  try {
    await guest.page.goto(link);
    await expect(guest.page.getByText(`as ${email}`)).toBeVisible();
    // strength is checked on the server, in words
    await guest.page.getByLabel("New password").fill("password1234");
    await guest.page.getByLabel("Repeat the password").fill("password1234");
    await guest.page.getByRole("button", { name: "Set password" }).click();
    await expect(guest.page.getByText("This password is one of the most commonly used ones; choose another.")).toBeVisible();
    await guest.page.getByLabel("New password").fill("too-short");
    await guest.page.getByLabel("Repeat the password").fill("too-short");
    await guest.page.getByRole("button", { name: "Set password" }).click();
    await expect(guest.page.getByText(/Use at least 12 characters/)).toBeVisible();
    await setPasswordFromLink(guest.page, link, PASSWORD);

    await signInWith(guest.page, email, PASSWORD);
    await expect(guest.page.getByRole("banner").getByText("Executive (read-only)")).toBeVisible();
    await expect(guest.page.getByRole("navigation", { name: "Main" }).getByRole("link")).toHaveText(["Funnel"]);
    for (const href of ["/connections", "/consents", "/admin/users", "/admin/audit", "/admin/api-keys", "/admin/settings"]) {
      expect((await guest.page.goto(href))?.status(), href).toBe(403);
    }

    // the link worked once
    await guest.page.goto(link);
    await expect(guest.page.getByText(/This link has already been used/)).toBeVisible();
  } finally {
    await guest.close();
  }
});

test("an admin demotes another admin and disables a user, who is refused within a minute; the audit log shows who did it", async ({ page, browser }) => {
  test.setTimeout(120_000);
  const second = `second-admin-${rand()}@e2e.test`;
  const leaver = `leaver-${rand()}@e2e.test`;
  await signIn(page, "admin");
  const links = [await inviteFromUsersPage(page, second, "Admin"), await inviteFromUsersPage(page, leaver, "Executive (read-only)")];
  const guest = await freshPage(browser);
  try {
    for (const l of links) await setPasswordFromLink(guest.page, l, PASSWORD);

    // the leaver is signed in elsewhere while the admin disables them
    await guest.page.context().clearCookies();
    await signInWith(guest.page, leaver, PASSWORD);

    await page.goto("/admin/users");
    const secondRow = page.getByRole("row").filter({ hasText: second });
    await expect(secondRow).toContainText("Admin");
    page.once("dialog", (d) => void d.accept());
    await secondRow.getByRole("button", { name: `Make executive ${second}` }).click();
    await expect(secondRow).toContainText("Executive (read-only)");

    const leaverRow = page.getByRole("row").filter({ hasText: leaver });
    // asked first: dismissing the question changes nothing
    let asked = "";
    page.once("dialog", (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await leaverRow.getByRole("button", { name: `Disable ${leaver}` }).click();
    await expect.poll(() => asked).toBe(`Disable ${leaver}? Their sessions end within a minute and they cannot sign in until re-enabled.`);
    await expect(leaverRow).toContainText("Active");
    page.once("dialog", (d) => void d.accept());
    await leaverRow.getByRole("button", { name: `Disable ${leaver}` }).click();
    await expect(leaverRow).toContainText("Disabled since");

    // the disabled user's open session ends within a minute (sessions are re-checked against the
    // database every SESSION_RECHECK_MS), and they cannot sign in again
    await expect(async () => {
      await guest.page.goto("/");
      await expect(guest.page).toHaveURL(/\/login/, { timeout: 1_000 });
    }).toPass({ timeout: 60_000, intervals: [2_000] });
    await guest.page.getByLabel("Email").fill(leaver);
    await guest.page.getByLabel("Password").fill(PASSWORD);
    await guest.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(guest.page.getByText("That email and password do not match an account.")).toBeVisible();

    // the demoted admin signs in as an exec
    await signInWith(guest.page, second, PASSWORD);
    await expect(guest.page.getByRole("banner").getByText("Executive (read-only)")).toBeVisible();
    expect((await guest.page.goto("/admin/users"))?.status()).toBe(403);
  } finally {
    await guest.close();
  }

  // re-enabled, the leaver could sign in again; the audit page lists every step with who did it
  await page.getByRole("row").filter({ hasText: leaver }).getByRole("button", { name: `Enable ${leaver}` }).click();
  await expect(page.getByRole("row").filter({ hasText: leaver })).toContainText("Active");
  await page.getByRole("link", { name: "Audit log", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  const table = page.getByTestId("audit-table");
  await expect(table.getByRole("row").filter({ hasText: "Changed a role" }).filter({ hasText: second })).toContainText(E2E_USERS.admin.email);
  await expect(table.getByRole("row").filter({ hasText: "Disabled a user" }).filter({ hasText: leaver })).toContainText(E2E_USERS.admin.email);
  await expect(table.getByRole("row").filter({ hasText: "Accepted an invite" }).filter({ hasText: leaver }).first()).toBeVisible();
  await page.getByLabel("Action").selectOption({ label: "Disabled a user" });
  await expect(table.getByRole("row").filter({ hasText: "Changed a role" })).toHaveCount(0);
  await expect(table.getByRole("row").filter({ hasText: leaver })).toHaveCount(1);
  await page.getByLabel("Action").selectOption({ label: "All actions" });
  await page.getByLabel("Person").selectOption({ label: leaver });
  await expect(table.getByRole("row").filter({ hasText: "Accepted an invite" })).toHaveCount(1);
  await expect(table.getByRole("row").filter({ hasText: "Disabled a user" })).toHaveCount(0);
  // never a secret: no invite token appears on the page
  for (const l of links) await expect(page.getByText(l.split("/").pop()!)).toHaveCount(0);
});

test("a tenant from `npm run tenants -- create`: its admin sees that tenant's data only and, as its last admin, cannot be demoted", async ({ page, request }) => {
  // npm test always sets it; run without it, the spec fails with this sentence rather than skipping
  expect(process.env.DATABASE_URL, "needs the e2e database's DATABASE_URL: run it through npm test").toBeTruthy();
  const tenants = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "scripts/tenants.ts", ...args], {
      cwd: path.resolve(import.meta.dirname, "../.."),
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "", AUTH_SECRET: process.env.AUTH_SECRET || "e2e-auth-secret-0123456789abcdef0123", ENCRYPTION_KEY: process.env.ENCRYPTION_KEY || "e2e0".repeat(16) },
    });
  const listed = JSON.parse(tenants("list", "--json").stdout) as { slug: string }[];
  // `acme` on a fresh database (npm test); a suffix when this spec runs again on the same one
  const slug = listed.some((t) => t.slug === "acme") ? `acme-${rand()}` : "acme";
  const created = tenants("create", slug, "--admin", `admin@${slug}.test`, "--json");
  expect(created.status, created.stderr).toBe(0);
  const acme = JSON.parse(created.stdout) as { tenant_id: string; slug: string; admin_email: string; admin_password: string; api_key: string };
  expect(acme).toMatchObject({ slug, admin_email: `admin@${slug}.test` });

  const intent = (resource: string) => ({
    source_type: "slack",
    resource_ids: [resource],
    scopes_mode: "safe_readonly",
    credential_locator: "env:AAM_SECRET_E2E_PEOPLE_MISSING",
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
    owner: { user: "owner@example.com", confidence: 0.9, why: "oauth_consenter" },
  });
  const acmeResource = `T0ACME${rand().toUpperCase()}`;
  const defaultResource = `T0DEFAULT${rand().toUpperCase()}`;
  for (const [key, resource] of [[acme.api_key, acmeResource], [E2E_API_KEY, defaultResource]]) {
    const res = await request.post("/api/connections/onboard?async=1", { headers: { authorization: `Bearer ${key}` }, data: intent(resource!) });
    expect(res.status(), await res.text()).toBeLessThan(300);
  }

  await signInWith(page, acme.admin_email, acme.admin_password);
  await page.goto("/connections");
  await expect(page.getByText(acmeResource)).toBeVisible();
  await expect(page.getByText(defaultResource)).toHaveCount(0);
  await expect(page.getByText("admin@e2e.test")).toHaveCount(0);

  await page.goto("/admin/users");
  const rows = page.getByRole("table").first().getByRole("row");
  await expect(rows).toHaveCount(2); // the header and acme's one admin
  await expect(rows.nth(1)).toContainText(acme.admin_email);
  await expect(page.getByText(E2E_USERS.admin.email)).toHaveCount(0);
  page.once("dialog", (d) => void d.accept());
  await rows.nth(1).getByRole("button", { name: `Make executive ${acme.admin_email}` }).click();
  await expect(page.getByTestId("users-problem")).toHaveText(`${acme.admin_email} is the last active admin of this tenant and cannot be demoted: make someone else an admin first.`);
  await expect(rows.nth(1)).toContainText("Admin");
  await expect(rows.nth(1)).not.toContainText("Executive");

  await page.goto("/admin/audit");
  await expect(page.getByTestId("audit-table")).toContainText("Created the tenant");
  await expect(page.getByTestId("audit-table")).not.toContainText(E2E_USERS.admin.email);
});
