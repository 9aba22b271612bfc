/**
 * Admin consent in a real browser against a real authorization server (oidc-provider on port
 * 4650, see oauth-server.ts): an exec is refused, a denial and a tampered state are explained in
 * words, and an approved consent brings the connection to ACTIVE — its sandbox GitHub API accepts
 * the issued access token after asking the authorization server (RFC 7662 introspection).
 * One connection, in a namespace of its own, goes through all of it in order.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { E2E_API_KEY, E2E_OAUTH } from "../../playwright.config";
import { signIn, sql } from "../helpers";
import { startE2eOAuthServer } from "./oauth-server";

const shots = path.resolve(import.meta.dirname, "..", "screenshots");
const NAMESPACE = "consent-e2e";
let idp: Awaited<ReturnType<typeof startE2eOAuthServer>>;
let connectionId: string;

/** The provider's development pages load a web font; the test machine has no internet. */
async function blockFonts(page: Page) {
  await page.route(/fonts\.(googleapis|gstatic)\.com/, (r) => r.abort());
}

/** From the connection's consent page to the provider's consent screen (sign-in included). */
async function throughProviderLogin(page: Page) {
  await page.goto(`/connections/${connectionId}/consent`);
  await page.getByRole("button", { name: "Continue to GitHub" }).click();
  await page.waitForURL((u) => u.origin === E2E_OAUTH.issuer);
  await page.locator("input[name=login]").fill("admin@e2e.test");
  await page.locator("input[name=password]").fill("any-password");
  await page.getByRole("button", { name: /sign-?in/i }).click();
  await expect(page.getByRole("button", { name: /continue/i })).toBeVisible();
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ request }) => {
  idp = await startE2eOAuthServer();
  const res = await request.post("/api/connections/onboard", {
    headers: { authorization: `Bearer ${E2E_API_KEY}` },
    data: {
      source_type: "github",
      resource_ids: ["consent-e2e-org"],
      scopes_mode: "safe_readonly",
      credential_locator: "consent:github",
      namespace: NAMESPACE,
      risk_level: "med",
      evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
      owner: { user: "eng-lead@example.com", confidence: 0.85, why: "org_owner" },
      config: { base_url: "sandbox:github", org: "acme" },
    },
  });
  const body = await res.json();
  expect(body).toMatchObject({ status: "AWAITING_CREDENTIALS", consent_url: expect.stringMatching(/^\/connections\/.+\/consent$/) });
  connectionId = body.connection_id;
});

test.afterAll(async () => {
  await idp?.close();
  // the tokens are per tenant and provider: leave none behind for the specs that follow
  await sql("DELETE FROM credentials WHERE locator = 'consent:github'");
});

test("an exec cannot open the consent page, and the callback refuses without an admin session", async ({ page, playwright, baseURL }) => {
  await signIn(page, "exec");
  const res = await page.goto(`/connections/${connectionId}/consent`);
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You need the admin role for this page" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Consents" })).toHaveCount(0);

  const asExec = await page.request.get("/api/oauth/callback?code=abc&state=def", { maxRedirects: 0 });
  expect(asExec.status()).toBe(403);
  expect(await asExec.text()).toContain("nothing was granted");

  const anonymous = await playwright.request.newContext({ baseURL });
  const res2 = await anonymous.get("/api/oauth/callback?code=abc&state=def", { maxRedirects: 0 });
  expect(res2.status()).toBe(401);
  expect(await res2.text()).toContain("Only a signed-in admin can finish an admin consent");
  await anonymous.dispose();
});

test("an admin finds the pending consent, reads what will be requested, and a denial is explained in words", async ({ page }) => {
  await blockFonts(page);
  await signIn(page, "admin");
  await page.getByRole("link", { name: "Consents" }).click();
  // one consent per provider: the page counts what waits on each and links to its consent screen
  await expect(page.getByTestId("consent-totals")).toContainText(/\d+ connections? waits? on \d+ consents?, one per provider\./);
  const github = page.getByTestId("consent-providers").getByRole("listitem").filter({ hasText: "GitHub" });
  await expect(github).toContainText(/GitHub: \d+ connections?/);
  await expect(github.getByRole("link", { name: "Give consent for GitHub" })).toHaveAttribute("href", /^\/connections\/[0-9a-f-]{36}\/consent$/);
  const row = page.getByTestId("pending-consents").getByRole("row").filter({ hasText: "consent-e2e-org" });
  await expect(row).toContainText("GitHub");
  await row.getByRole("link", { name: "Give consent" }).click();

  await expect(page.getByRole("heading", { name: "Give GitHub read-only access" })).toBeVisible();
  await expect(page.getByTestId("consent-scopes")).toHaveText(/read:org\s*read:user/);
  await expect(page.getByText("Nothing is written to GitHub")).toBeVisible();
  await expect(page.getByText("127.0.0.1:4650")).toBeVisible();
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, "consent.png"), fullPage: true });

  await throughProviderLogin(page);
  await page.getByRole("link", { name: /cancel/i }).click();

  await page.waitForURL(new RegExp(`/connections/${connectionId}\\?consent=denied$`));
  await expect(page.getByTestId("consent-notice")).toHaveText("Consent was denied at the provider, so nothing was granted. The connection keeps waiting for an admin's consent.");
  await expect(page.getByTestId("status-reason")).toHaveText("Consent was denied by admin@e2e.test");
  await expect(page.getByText("Awaiting credentials", { exact: true })).toBeVisible();
  await expect(page.getByTestId("timeline")).toContainText("Consent was denied by admin@e2e.test");
});

test("with more connections waiting than one screen lists, it lists this one first and says how many more wait", async ({ page }) => {
  // 201 newer connections waiting on the same consent (copies of this one), removed again after
  await sql(
    `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, intent_hash, scopes_mode,
       credential_locator, risk_level, evidence, owner, config, updated_at)
     SELECT gen_random_uuid(), tenant_id, namespace, source_type, ARRAY['crowd-' || g], 'crowd-' || g, status, status_reason, intent_hash, scopes_mode,
       credential_locator, risk_level, evidence, owner, config, now() + g * interval '1 second'
     FROM connections, generate_series(1, 201) g WHERE id = $1::uuid`,
    [connectionId],
  );
  try {
    await signIn(page, "admin");
    await page.goto(`/connections/${connectionId}/consent`);
    const covers = page.getByTestId("consent-covers");
    await expect(covers.getByRole("heading")).toHaveText("This consent resumes these 200 connections, and no others");
    await expect(covers.getByRole("listitem").first()).toContainText("consent-e2e-org");
    await expect(page.getByTestId("consent-waiting-beyond")).toHaveText(
      "2 more connections wait on this consent: a screen lists 200 of them, this one first and then the newest. After this consent, open one of the others and consent again to resume them.",
    );
  } finally {
    await sql("DELETE FROM connections WHERE namespace = $1 AND resource_key LIKE 'crowd-%'", [NAMESPACE]);
  }
});

test("a tampered state is refused with words, and the connection keeps waiting", async ({ page }) => {
  await blockFonts(page);
  await signIn(page, "admin");
  let original = "";
  // The browser comes back with a changed state. The provider's redirect chain starts at the
  // consent form's POST (only a chain's first request can be routed), so that POST is answered
  // here: the provider's real answer is followed to the callback URL, whose state is altered.
  await page.route(new RegExp(`^${E2E_OAUTH.issuer}/interaction/[^/?]+$`), async (route) => {
    const req = route.request();
    if (req.method() !== "POST" || !(req.postData() ?? "").includes("prompt=consent")) return route.continue();
    const submitted = await route.fetch({ maxRedirects: 0 });
    const resume = await page.request.get(new URL(submitted.headers().location!, E2E_OAUTH.issuer).toString(), { maxRedirects: 0 });
    const callback = new URL(resume.headers().location!);
    original = callback.searchParams.get("state") ?? "";
    callback.searchParams.set("state", `${original.slice(0, -3)}abc`);
    await route.fulfill({ status: 303, headers: { location: callback.toString() } });
  });
  await throughProviderLogin(page);
  await page.getByRole("button", { name: /continue/i }).click();

  await page.waitForURL(/\/consents\?consent=tampered$/);
  expect(original.length).toBeGreaterThan(20);
  await expect(page.getByTestId("consent-notice")).toHaveText(
    "That consent link is not valid: it was changed or was never issued here. Nothing was granted; start again from the connection's consent page.",
  );
  const [conn] = await sql<{ status: string }>("SELECT status::text AS status FROM connections WHERE id = $1", [connectionId]);
  expect(conn?.status).toBe("AWAITING_CREDENTIALS");
  expect(await sql("SELECT 1 FROM credentials WHERE locator = 'consent:github'")).toHaveLength(0);
});

test("an approved consent stores the tokens and the connection becomes ACTIVE against the sandbox", async ({ page }) => {
  await blockFonts(page);
  await signIn(page, "admin");
  await page.goto(`/connections/${connectionId}`);
  await page.getByRole("link", { name: "Give consent" }).click();
  await expect(page.getByRole("heading", { name: "Give GitHub read-only access" })).toBeVisible();
  await throughProviderLogin(page);
  await page.getByRole("button", { name: /continue/i }).click();

  await page.waitForURL(new RegExp(`/connections/${connectionId}\\?consent=granted$`));
  await expect(page.getByTestId("consent-notice")).toContainText("Consent given.");
  await expect(page.getByText("Active", { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("status-reason")).toHaveText("Onboarded successfully in Safe Mode");
  await expect(page.getByTestId("first-sync")).toContainText("records");
  await expect(page.getByTestId("timeline")).toContainText("Admin consent for GitHub given by admin@e2e.test (read-only scopes: read:org, read:user); onboarding resumes");

  // stored encrypted; no token anywhere on the page
  const [cred] = await sql<{ kind: string }>("SELECT kind FROM credentials WHERE locator = 'consent:github'");
  expect(cred?.kind).toBe("consent");
  expect(await page.content()).not.toMatch(/access_token|refresh_token/);

  // the consent link is not offered any more
  await page.goto("/consents");
  await expect(page.getByText("consent-e2e-org")).toHaveCount(0);

  // the audit log names the connection as a link to its page, not as connection:<uuid>
  await page.goto("/admin/audit");
  const completed = page.getByTestId("audit-table").getByRole("row").filter({ hasText: "Completed an admin consent" }).first();
  await expect(completed.getByRole("link", { name: `connection ${connectionId.slice(0, 8)}…` })).toHaveAttribute("href", `/connections/${connectionId}`);
  await expect(page.getByTestId("audit-table")).not.toContainText(`connection:${connectionId}`);
});
