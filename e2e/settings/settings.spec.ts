import path from "node:path";
import { expect, test } from "@playwright/test";
import { E2E_API_KEY } from "../../playwright.config";
import { E2E_SANDBOX_HTTP_PORT as PORT, githubIntent, onboardIntent, signIn, sql, startForwarder, trpcMutation } from "../helpers";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };

// The sandbox's own address and port are approved by rule; the same service behind another port is not.
test("an admin approves a blocked destination from the connection page and watches it become ACTIVE", async ({ page, request }) => {
  const fwd = await startForwarder(PORT);
  try {
    const first = await onboardIntent(request, githubIntent(`http://127.0.0.1:${fwd.port}/github`, { intent_id: "settings-e2e-approve" }));
    expect(first.status).toBe("NETWORK_BLOCKED");
    expect(first.message).toContain(`Destination not approved: 127.0.0.1:${fwd.port}`);

    await signIn(page, "admin");
    await page.goto(`/connections/${first.connection_id}`);
    await expect(page.getByTestId("blocked-destination")).toContainText(
      `This connection tried to reach 127.0.0.1:${fwd.port}, which is neither one of the github connector's own hosts nor on this tenant's approved destinations`,
    );
    await page.getByRole("button", { name: "Approve this destination" }).click();
    await expect(page.getByText(/^Approved 127\.0\.0\.1 for github; onboarding resumed for this connection\.$/)).toBeVisible();
    await expect(page.getByTestId("status-reason")).toHaveText("Onboarded successfully in Safe Mode", { timeout: 20_000 });
    await expect(page.getByTestId("blocked-destination")).toHaveCount(0);
    // the timeline shows the way through PENDING: who approved what, then the passing attempt
    await expect(page.getByTestId("timeline")).toContainText(`Destination approved by admin@e2e.test: 127.0.0.1:${fwd.port} for github`);
    await expect(page.getByTestId("first-sync")).toContainText("records in");
    const after = await (await request.get(`/api/connections/${first.connection_id}`, { headers: auth })).json();
    expect(after.status).toBe("ACTIVE");

    // the rule is on the Settings page, exactly host:port for this source type, and the change is listed with who
    await page.getByRole("link", { name: "Settings", exact: true }).click();
    const row = page.getByRole("table", { name: "Approved destinations" }).getByRole("row").filter({ hasText: String(fwd.port) });
    await expect(row.getByRole("cell")).toHaveText(["Host", "127.0.0.1", String(fwd.port), "github", /by admin@e2e\.test at/, /Edit/]);
    await expect(page.getByTestId("recent-changes")).toContainText(`admin@e2e.test approved 127.0.0.1:${fwd.port} for github from a connection page`);
  } finally {
    await fwd.close();
  }
});

test("an exec cannot approve: no button or page, and the server refuses the procedures", async ({ page, request }) => {
  const blocked = await onboardIntent(request, githubIntent(`http://127.0.0.2:${PORT}/github`, { intent_id: "settings-e2e-exec", resource_ids: ["acme-exec"] }));
  expect(blocked.status).toBe("NETWORK_BLOCKED");

  await signIn(page, "exec");
  await expect(page.getByRole("link", { name: "Settings" })).toHaveCount(0);
  expect((await page.goto(`/connections/${blocked.connection_id}`))?.status()).toBe(403);
  await expect(page.getByRole("button", { name: "Approve this destination" })).toHaveCount(0);
  expect((await page.goto("/admin/settings"))?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You need the admin role for this page" })).toBeVisible();

  const approve = await trpcMutation(page, "settings.approveBlockedDestination", { connectionId: blocked.connection_id });
  expect(approve.status).toBe(403);
  expect(JSON.stringify(approve.body)).toContain("Your role does not allow this action");
  const add = await trpcMutation(page, "settings.addDestination", { kind: "host", pattern: "127.0.0.2", ports: String(PORT), sourceTypes: ["github"], note: "" });
  expect(add.status).toBe(403);
  const still = await (await request.get(`/api/connections/${blocked.connection_id}`, { headers: auth })).json();
  expect(still.status).toBe("NETWORK_BLOCKED");
});

test("the Settings page lists, adds, edits and removes destinations, refuses bad ones in words, and records every change", async ({ page }) => {
  await signIn(page, "admin");
  await page.getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Settings", exact: true })).toBeVisible();
  const form = page.getByRole("form", { name: "Add a destination" });
  const table = page.getByRole("table", { name: "Approved destinations" });

  // refused in words, nothing added
  await form.getByLabel("Host, *.domain, IP or CIDR").fill("https://db.corp.example/x");
  await form.getByLabel("Ports").fill("70000");
  await form.getByRole("button", { name: "Add destination" }).click();
  await expect(form).toContainText("Destination: “https://db.corp.example/x” is a URL: enter only the host name (db.corp.example), and the port under Ports.");
  await expect(form).toContainText("Ports: “70000” is not a port: use whole numbers from 1 to 65535, separated by commas.");
  // each refused field says so on itself, its sentence read with it
  await expect(form.getByLabel("Host, *.domain, IP or CIDR")).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByLabel("Host, *.domain, IP or CIDR")).toHaveAccessibleDescription("“https://db.corp.example/x” is a URL: enter only the host name (db.corp.example), and the port under Ports.");
  await expect(form.getByLabel("Ports")).toHaveAccessibleDescription("“70000” is not a port: use whole numbers from 1 to 65535, separated by commas.");
  await expect(form.getByLabel("Source types")).not.toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("Kind").selectOption("folder");
  await form.getByLabel("Absolute folder path").fill(path.resolve(".data-e2e"));
  await form.getByRole("button", { name: "Add destination" }).click();
  await expect(form).toContainText("this is inside the app's own data folder (DATA_DIR), which holds its database and secrets; it can never be approved.");

  // add
  await form.getByLabel("Kind").selectOption("host");
  await form.getByLabel("Host, *.domain, IP or CIDR").fill("DB.Corp.Example");
  await form.getByLabel("Ports").fill("5432");
  await form.getByLabel("Source types").fill("postgres");
  await form.getByLabel("Note").fill("finance replica");
  await form.getByRole("button", { name: "Add destination" }).click();
  const row = table.getByRole("row").filter({ hasText: "db.corp.example" });
  await expect(row.getByRole("cell")).toHaveText(["Host", "db.corp.example", "5432", "postgres", /finance replica\s*by admin@e2e\.test at/, /Edit/]);
  await expect(form.getByLabel("Host, *.domain, IP or CIDR")).toHaveValue("");

  // edit (a bad value is refused, then a good one saved)
  await row.getByRole("button", { name: "Edit db.corp.example" }).click();
  const edit = page.getByRole("form", { name: "Edit db.corp.example" });
  await edit.getByLabel("Ports").fill("5432, 0");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toContainText("Ports: “0” is not a port");
  await edit.getByLabel("Ports").fill("6432, 5432");
  await edit.getByLabel("Source types").fill("postgres, supabase");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(row.getByRole("cell")).toHaveText(["Host", "db.corp.example", "5432, 6432", "postgres, supabase", /finance replica/, /Edit/]);

  // remove, after a confirmation
  await row.getByRole("button", { name: "Remove db.corp.example" }).click();
  await row.getByRole("button", { name: "Confirm removal of db.corp.example" }).click();
  await expect(table.getByRole("row").filter({ hasText: "db.corp.example" })).toHaveCount(0);

  // preview masking: off and on again, each audited
  const masking = page.getByLabel("Mask personal data in previews");
  await expect(masking).toBeChecked();
  await masking.uncheck();
  await expect(masking).not.toBeChecked();
  await masking.check();
  await expect(masking).toBeChecked();

  const changes = page.getByTestId("recent-changes").getByRole("listitem");
  await expect(changes.nth(0)).toContainText("admin@e2e.test turned preview masking on");
  await expect(changes.nth(1)).toContainText("admin@e2e.test turned preview masking off");
  await expect(changes.nth(2)).toContainText("admin@e2e.test removed db.corp.example (5432, 6432; postgres, supabase)");
  await expect(changes.nth(3)).toContainText("admin@e2e.test changed db.corp.example (5432; postgres) to db.corp.example (5432, 6432; postgres, supabase)");
  await expect(changes.nth(4)).toContainText("admin@e2e.test approved db.corp.example (5432; postgres)");
});

test("recent changes say in words what an operator's settings change did", async ({ page }) => {
  // what `make autonomy-mode` records (scripts/autonomy-mode.ts)
  await sql(
    `INSERT INTO audit_events (tenant_id, actor_label, action, target, details)
     SELECT id, 'operator (make autonomy-mode)', 'settings.changed', 'autonomy', $1::jsonb FROM tenants WHERE slug = 'default'`,
    [JSON.stringify({ safe_mode: true, metrics: true, rate_per_minute: 1200, max_sample_records: 20, slo_target: 0.9 })],
  );
  await signIn(page, "admin");
  await page.getByRole("link", { name: "Settings", exact: true }).click();
  const changes = page.getByTestId("recent-changes");
  await expect(changes).toContainText("set the “autonomy” namespace to Safe Mode on, 1,200 requests a minute per connection, a first sync of at most 20 records, an SLO target of 90.0%");
  await expect(changes).not.toContainText("settings.changed");
});
