import { expect, test } from "@playwright/test";
import { E2E_API_KEY } from "../../playwright.config";
import { E2E_SANDBOX_HTTP_PORT as PORT, githubIntent, onboardIntent, signIn, startForwarder, trpcMutation } from "../helpers";

const auth = { authorization: `Bearer ${E2E_API_KEY}` };
const LOCATOR = "env:AAM_SECRET_E2E_GITHUB";

// One secret, first used at the sandbox's GitHub stand-in; the same stand-in behind another
// (approved) port is another destination: blocked until an admin allows the secret there.
test("a secret goes where it was first used; an admin allows it elsewhere from the connection page and reviews bindings in Settings", async ({ page, request }) => {
  const fwd = await startForwarder(PORT);
  let ruleId: string | undefined;
  try {
    await signIn(page, "admin");
    // the forwarder's port is an approved destination: only the secret's binding stands in the way
    const approved = await trpcMutation(page, "settings.addDestination", { kind: "host", pattern: "127.0.0.1", ports: String(fwd.port), sourceTypes: ["github"], note: "bindings e2e" });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    ruleId = (approved.body as { result: { data: { json: { destination: { id: string } } } } }).result.data.json.destination.id;

    const first = await onboardIntent(request, githubIntent(`http://127.0.0.1:${PORT}/github`, { credential_locator: LOCATOR, namespace: "bindings", intent_id: "bind-e2e-first" }));
    expect(first.status).toBe("ACTIVE");
    const moved = await onboardIntent(request, githubIntent(`http://127.0.0.1:${fwd.port}/github`, { credential_locator: LOCATOR, namespace: "bindings", resource_ids: ["acme-moved"], intent_id: "bind-e2e-moved", config: { base_url: `http://127.0.0.1:${fwd.port}/github`, org: "acme-moved" } }));
    expect(moved.status).toBe("NETWORK_BLOCKED");
    expect(moved.message).toContain(`Destination not approved for this secret: ${LOCATOR} is bound to another destination`);
    expect(moved.message).not.toContain(`127.0.0.1:${PORT}`);

    await page.goto(`/connections/${moved.connection_id}`);
    const notice = page.getByTestId("secret-binding");
    await expect(notice).toContainText(`The secret ${LOCATOR} may be sent only where it is bound, and this connection would send it to github at base_url=http://127.0.0.1:${fwd.port}/github. It was not read, and nothing was sent.`);
    await expect(notice).toContainText(`Bound to github at base_url=http://127.0.0.1:${PORT}/github — where it was first used on`);
    // asked first; "Keep it bound" changes nothing
    await page.getByRole("button", { name: "Allow this secret here" }).click();
    await page.getByRole("button", { name: "Keep it bound" }).click();
    await page.getByRole("button", { name: "Allow this secret here" }).click();
    await page.getByRole("button", { name: `Yes, send ${LOCATOR} to github at base_url=http://127.0.0.1:${fwd.port}/github too` }).click();
    await expect(page.getByText(`Allowed ${LOCATOR} for github at base_url=http://127.0.0.1:${fwd.port}/github; onboarding resumed for this connection.`)).toBeVisible();
    await expect(page.getByTestId("status-reason")).toHaveText("Onboarded successfully in Safe Mode", { timeout: 20_000 });
    await expect(page.getByTestId("secret-binding")).toHaveCount(0);
    expect((await (await request.get(`/api/connections/${moved.connection_id}`, { headers: auth })).json()).status).toBe("ACTIVE");

    // Settings lists both bindings, says how each came to be, and records the allowance in words
    await page.goto("/admin/settings");
    const table = page.getByRole("table", { name: "Where secrets may be sent" });
    const firstRow = table.getByRole("row").filter({ hasText: `http://127.0.0.1:${PORT}` }).filter({ hasText: LOCATOR });
    await expect(firstRow.getByRole("cell")).toHaveText([LOCATOR, "github", `base_url=http://127.0.0.1:${PORT}/github`, /^first used by connection [0-9a-f]{8}… at .* UTC$/, /Remove/]);
    const allowedRow = table.getByRole("row").filter({ hasText: `http://127.0.0.1:${fwd.port}` });
    await expect(allowedRow.getByRole("cell").nth(3)).toHaveText(/^allowed by admin@e2e\.test at .* UTC$/);
    await expect(page.getByTestId("recent-changes")).toContainText(`admin@e2e.test allowed ${LOCATOR} for github at base_url=http://127.0.0.1:${fwd.port}/github`);
    await expect(page.getByTestId("recent-changes")).toContainText(`bound ${LOCATOR} to github at base_url=http://127.0.0.1:${PORT}/github, where it was first used`);

    // removing the allowance: asked first, then gone from the list and in the recent changes
    await allowedRow.getByRole("button", { name: /^Remove/ }).click();
    await allowedRow.getByRole("button", { name: /^Confirm removal/ }).click();
    await expect(table.getByRole("row").filter({ hasText: `http://127.0.0.1:${fwd.port}` })).toHaveCount(0);
    await expect(page.getByTestId("recent-changes")).toContainText(`admin@e2e.test removed the binding of ${LOCATOR} to github at base_url=http://127.0.0.1:${fwd.port}/github`);
  } finally {
    // the rule is this spec's own: the Settings spec counts 127.0.0.1's ports
    if (ruleId) await trpcMutation(page, "settings.removeDestination", { id: ruleId });
    await fwd.close();
  }
});

test("with admins approving first destinations, a new secret waits on its connection page until an admin allows it", async ({ page, request }) => {
  const locator = "env:AAM_SECRET_E2E_GITHUB_APPROVED";
  await signIn(page, "admin");
  await page.goto("/admin/settings");
  const box = page.getByRole("checkbox", { name: /An admin approves each secret's first destination/ });
  await expect(box).not.toBeChecked();
  await box.check();
  await expect(page.getByTestId("recent-changes")).toContainText("admin@e2e.test had admins approve each secret's first destination");
  try {
    const waiting = await onboardIntent(request, githubIntent(`http://127.0.0.1:${PORT}/github`, { credential_locator: locator, namespace: "bindings", resource_ids: ["acme-approved"], intent_id: "bind-e2e-approved", config: { base_url: `http://127.0.0.1:${PORT}/github`, org: "acme-approved" } }));
    expect(waiting.status).toBe("NETWORK_BLOCKED");
    expect(waiting.message).toContain(`${locator} is bound nowhere yet`);
    await page.goto(`/connections/${waiting.connection_id}`);
    await expect(page.getByTestId("secret-binding")).toContainText(`This organisation's admins approve where each secret may go, and ${locator} is bound nowhere yet; this connection would send it to github at base_url=http://127.0.0.1:${PORT}/github.`);
    await page.getByRole("button", { name: "Allow this secret here" }).click();
    await page.getByRole("button", { name: `Yes, send ${locator} to github at base_url=http://127.0.0.1:${PORT}/github too` }).click();
    await expect(page.getByTestId("status-reason")).toHaveText("Onboarded successfully in Safe Mode", { timeout: 20_000 });
  } finally {
    await page.goto("/admin/settings");
    await page.getByRole("checkbox", { name: /An admin approves each secret's first destination/ }).uncheck();
    await expect(page.getByTestId("recent-changes")).toContainText("let a secret's first successful use bind it");
  }
});

test("an exec sees no bindings and cannot allow or remove one", async ({ page }) => {
  await signIn(page, "exec");
  const allow = await trpcMutation(page, "settings.allowSecretHere", { connectionId: "00000000-0000-4000-8000-000000000000" });
  expect(allow.status).toBe(403);
  const remove = await trpcMutation(page, "settings.removeSecretBinding", { id: "00000000-0000-4000-8000-000000000000" });
  expect(remove.status).toBe(403);
  const approval = await trpcMutation(page, "settings.setSecretBindingApproval", { on: true });
  expect(approval.status).toBe(403);
});
