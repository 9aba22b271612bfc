/**
 * The Consents page's list (tRPC consents.pending): it shows the newest waiting connections, and
 * counts every one of them per provider — one consent per provider resumes them, so an admin
 * must see each provider that waits, even when another provider's newer connections fill the
 * table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/client";
import { MAX_CONSENT_LOCATORS } from "../../server/onboarding/connection-repository";
import { PENDING_LISTED } from "../../server/trpc/routers/consents";
import { createTestTenant, testDb } from "../helpers/db";

type Router = typeof import("../../server/trpc/router").appRouter;
let db: Db;
let appRouter: Router;

beforeAll(async () => {
  db = testDb();
  appRouter = (await import("../../server/trpc/router")).appRouter;
});
afterAll(async () => {
  await db?.$disconnect();
});

const caller = (tenantId: string) =>
  appRouter.createCaller({ db, session: { user: { id: "u", email: "admin@example.com", role: "admin", tenantId }, expires: new Date(Date.now() + 600_000).toISOString() } });

/** `n` connections of `tenantId` in `status`, with `locator`, updated `from` seconds after now onwards (one second apart). */
async function add(tenantId: string, n: number, o: { locator: string; from: number; status?: string; namespace?: string; tag: string }): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, reachable, intent_id, scopes_mode,
       credential_locator, risk_level, evidence, owner, updated_at)
     SELECT gen_random_uuid(), $1::uuid, $6, 'github', ARRAY[$5 || g], $5 || g, $4::"ConnectionStatus", 'Waiting for an admin consent', false, $5 || g, 'safe_readonly',
       $2, 'low', '{}'::jsonb, '{}'::jsonb, now() + ($3 + g) * interval '1 second'
     FROM generate_series(1, $7::int) g`,
    tenantId,
    o.locator,
    o.from,
    o.status ?? "AWAITING_CREDENTIALS",
    o.tag,
    o.namespace ?? "autonomy",
    n,
  );
}

describe("consents.pending", () => {
  it("counts every waiting connection per provider, links each provider's newest, and lists only the newest", async () => {
    const tenantId = await createTestTenant(db, "pending-consents");
    const other = await createTestTenant(db, "pending-consents-other");
    // 7 older connections waiting on Slack, then more GitHub ones than the table lists, all newer
    await add(tenantId, 7, { locator: "consent:slack", from: 0, tag: "slack-" });
    await add(tenantId, PENDING_LISTED + 30, { locator: "consent:github", from: 100, tag: "gh-" });
    // not counted: another status, a credential that is not a consent, the read-only demo namespace, another tenant
    await add(tenantId, 3, { locator: "consent:github", from: 0, status: "ACTIVE", tag: "active-" });
    await add(tenantId, 4, { locator: "env:GITHUB_TOKEN", from: 0, tag: "env-" });
    await add(tenantId, 5, { locator: "consent:github", from: 0, namespace: "demo", tag: "demo-" });
    await add(other, 6, { locator: "consent:slack", from: 500, tag: "other-" });

    const pending = await caller(tenantId).consents.pending();
    expect(pending.total).toBe(PENDING_LISTED + 37);
    expect(pending.connections).toHaveLength(PENDING_LISTED);
    // the table is GitHub's newest: no Slack row fits in it…
    expect(new Set(pending.connections.map((c) => c.provider))).toEqual(new Set(["github"]));
    expect(pending.connections[0]!.resourceIds).toEqual([`gh-${PENDING_LISTED + 30}`]);
    expect(pending.connections[0]!.providerName).toBe("GitHub");
    // …yet Slack is a consent to give, with its count and a connection whose screen gives it
    expect(pending.providersBeyond).toBe(0);
    expect(pending.providers.map(({ provider, displayName, waiting }) => ({ provider, displayName, waiting }))).toEqual([
      { provider: "github", displayName: "GitHub", waiting: PENDING_LISTED + 30 },
      { provider: "slack", displayName: "Slack", waiting: 7 },
    ]);
    const slack = await db.connection.findUniqueOrThrow({ where: { id: pending.providers[1]!.connectionId }, select: { tenantId: true, resourceIds: true, credentialLocator: true } });
    expect(slack).toEqual({ tenantId, resourceIds: ["slack-7"], credentialLocator: "consent:slack" });
  });

  it("names the busiest providers when an intent's locators name more, and counts the rest (one statement, not one per locator)", async () => {
    const tenantId = await createTestTenant(db, "pending-consents-many");
    // the locator is the intent's to choose: AOD can make a tenant wait on any number of them
    await db.$executeRawUnsafe(
      `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, reachable, intent_id, scopes_mode,
         credential_locator, risk_level, evidence, owner, updated_at)
       SELECT gen_random_uuid(), $1::uuid, 'autonomy', 'github', ARRAY['m' || g], 'm' || g, 'AWAITING_CREDENTIALS', 'Waiting', false, 'm' || g, 'safe_readonly',
         'consent:made-up-' || g, 'low', '{}'::jsonb, '{}'::jsonb, now()
       FROM generate_series(1, $2::int) g`,
      tenantId,
      MAX_CONSENT_LOCATORS + 40,
    );
    await add(tenantId, 3, { locator: "consent:github", from: 0, tag: "gh-" });
    const pending = await caller(tenantId).consents.pending();
    expect(pending.total).toBe(MAX_CONSENT_LOCATORS + 43);
    expect(pending.providers).toHaveLength(MAX_CONSENT_LOCATORS);
    expect(pending.providers[0]).toMatchObject({ provider: "github", displayName: "GitHub", waiting: 3 });
    expect(pending.providers[1]).toMatchObject({ displayName: "made-up-1", waiting: 1 }); // no catalog name: shown as written
    expect(pending.providersBeyond).toBe(41);
  });

  it("says nothing waits when nothing does", async () => {
    const tenantId = await createTestTenant(db, "pending-consents-none");
    await add(tenantId, 2, { locator: "consent:github", from: 0, status: "ACTIVE", tag: "a-" });
    expect(await caller(tenantId).consents.pending()).toEqual({ connections: [], total: 0, providers: [], providersBeyond: 0 });
  });
});
