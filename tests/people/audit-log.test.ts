/**
 * The Audit page's filter choices (server/people/audit-query-repository.ts) against the real
 * PostgreSQL: every person and action of the log is offered — read one index probe per value, not
 * by loading the log (which ran out of memory at a million entries) — and a log with more people
 * than a list holds says so, so the page lets the admin type one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/client";
import { MAX_FACET_ACTORS } from "../../server/people/audit-query-repository";
import { viewAuditLog } from "../../server/people/view-audit-log";
import { createTestTenant, testDb } from "../helpers/db";

let db: Db;
beforeAll(() => {
  db = testDb();
});
afterAll(async () => {
  await db?.$disconnect();
});

/** `n` entries of `tenantId` by `actors` people (user0000…), action `sign_in.succeeded`. */
async function fill(tenantId: string, n: number, actors: number): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO audit_events (tenant_id, actor_label, action, target, at)
     SELECT $1::uuid, 'user' || lpad((g % $3::int)::text, 4, '0') || '@example.com', 'sign_in.succeeded', '', now() - g * interval '1 ms' FROM generate_series(1, $2::int) g`,
    tenantId,
    n,
    actors,
  );
}

describe("the Audit page's choices", () => {
  it("offers every person and every action of a long log, in order — the 600th person and an action seen once among them", async () => {
    const tenantId = await createTestTenant(db, "audit-facets");
    const other = await createTestTenant(db, "audit-facets-other");
    await fill(tenantId, 60_000, 600);
    await db.auditEvent.create({ data: { tenantId, actorLabel: "zed@example.com", action: "tenant.disabled", target: "" } });
    await db.auditEvent.create({ data: { tenantId: other, actorLabel: "someone-else@example.com", action: "other.action", target: "" } });

    const page = await viewAuditLog(db, tenantId, {});
    expect(page.actors).toHaveLength(601);
    expect(page.actors.slice(0, 2)).toEqual(["user0000@example.com", "user0001@example.com"]);
    expect(page.actors).toContain("user0599@example.com");
    expect(page.actors.at(-1)).toBe("zed@example.com");
    expect(page.actorsComplete).toBe(true);
    expect(page.actions.map((a) => a.action)).toEqual(expect.arrayContaining(["sign_in.succeeded", "tenant.disabled"]));
    expect(page.actions.map((a) => a.action)).not.toContain("other.action");
    expect(page.actors).not.toContain("someone-else@example.com");
    // the 600th person's own entries, through the filter the choice feeds
    const theirs = await viewAuditLog(db, tenantId, { actor: "user0599@example.com", limit: 200 });
    expect(theirs.entries).toHaveLength(100);
    expect(theirs.entries.every((e) => e.actorLabel === "user0599@example.com")).toBe(true);
  });

  it("says when there are more people than the list holds", async () => {
    const tenantId = await createTestTenant(db, "audit-facets-many");
    await fill(tenantId, MAX_FACET_ACTORS + 5, MAX_FACET_ACTORS + 5);
    const page = await viewAuditLog(db, tenantId, {});
    expect(page.actors).toHaveLength(MAX_FACET_ACTORS);
    expect(page.actorsComplete).toBe(false);
    expect(page.actors).toEqual([...page.actors].sort());
  });
});
