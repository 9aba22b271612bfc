import { expect, type APIRequestContext, type Page } from "@playwright/test";
import pg from "pg";
import { E2E_API_KEY, E2E_USERS } from "../playwright.config";

export async function signIn(page: Page, who: keyof typeof E2E_USERS) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(E2E_USERS[who].email);
  await page.getByLabel("Password").fill(E2E_USERS[who].password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Onboarding funnel" })).toBeVisible();
}

/** The sandbox HTTP port the e2e app runs (playwright.config.ts, SANDBOX_HTTP_PORT). */
export const E2E_SANDBOX_HTTP_PORT = 4610;

/** A GitHub intent like seeds/intents/04-github-sandbox.json, pointed at `baseUrl` instead of the sandbox reference. */
export function githubIntent(baseUrl: string, over: Record<string, unknown> = {}) {
  return {
    source_type: "github",
    resource_ids: ["acme"],
    scopes_mode: "safe_readonly",
    credential_locator: "env:SANDBOX_TOKEN",
    namespace: "autonomy",
    risk_level: "med",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
    owner: { user: "eng-lead@example.com", confidence: 0.85, why: "org_owner" },
    config: { base_url: baseUrl, org: "acme" },
    ...over,
  };
}

/** Posts an intent as AOD does (bearer API key) and returns the JSON answer. */
export async function onboardIntent(request: APIRequestContext, intent: unknown): Promise<{ connection_id: string; status: string; message: string }> {
  const res = await request.post("/api/connections/onboard", { headers: { authorization: `Bearer ${E2E_API_KEY}` }, data: intent });
  expect(res.status(), await res.text()).toBeLessThan(300);
  return res.json();
}

/** Calls a tRPC mutation with the page's session, as the browser would (superjson body). */
export async function trpcMutation(page: Page, path: string, input: unknown): Promise<{ status: number; body: unknown }> {
  const res = await page.request.post(`/api/trpc/${path}`, { data: { json: input }, headers: { "content-type": "application/json" } });
  return { status: res.status(), body: await res.json().catch(() => null) };
}

/**
 * A plain TCP forwarder on 127.0.0.1:<random port> to `targetPort`: the same sandbox behind a
 * destination that is not approved (sandbox rules approve only the sandbox's own ports).
 */
export async function startForwarder(targetPort: number): Promise<{ port: number; close: () => Promise<void> }> {
  const net = await import("node:net");
  const sockets = new Set<import("node:net").Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as import("node:net").AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Signs in with any email and password and waits for the funnel (the landing page). */
export async function signInWith(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Onboarding funnel" })).toBeVisible();
}

/**
 * As a signed-in admin on the Users page: invites `email` with `role` ("Admin" or "Executive
 * (read-only)") and returns the invite link the page shows once.
 */
export async function inviteFromUsersPage(page: Page, email: string, role: "Admin" | "Executive (read-only)"): Promise<string> {
  await page.goto("/admin/users");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Role").selectOption({ label: role });
  await page.getByRole("button", { name: "Invite", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: `Invite link for ${email}` })).toBeVisible();
  return (await page.getByTestId("issued-link").textContent())!.trim();
}

/** Opens an invite or reset link (signed out) and sets the password from it. */
export async function setPasswordFromLink(page: Page, link: string, password: string) {
  await page.goto(link);
  await page.getByLabel("New password").fill(password);
  await page.getByLabel("Repeat the password").fill(password);
  await page.getByRole("button", { name: "Set password" }).click();
  await expect(page.getByRole("status").filter({ hasText: /is ready|is changed/ })).toBeVisible();
}

/** One statement against the app's database (the test runner sets DATABASE_URL): its rows. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}
