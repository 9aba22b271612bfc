/**
 * The connections list's input, as the page sends it through tRPC: a search inside text needs a
 * word of 3 letters or digits (server/onboarding/search-text.ts) — the owner filter refuses text
 * without one, in words, instead of reading every row of the namespace.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/client";
import { SHORT_OWNER_MESSAGE } from "../../server/onboarding/search-text";
import { createTestTenant, testDb } from "../helpers/db";

type Router = typeof import("../../server/trpc/router").appRouter;
let db: Db;
let appRouter: Router;
let tenantId: string;

beforeAll(async () => {
  db = testDb();
  appRouter = (await import("../../server/trpc/router")).appRouter;
  tenantId = await createTestTenant(db, "list-input");
  await db.$executeRawUnsafe(
    `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, reachable, intent_id, scopes_mode, credential_locator, risk_level, evidence, owner, updated_at)
     VALUES (gen_random_uuid(), $1::uuid, 'autonomy', 'github', ARRAY['r1'], 'k1', 'ACTIVE', 'Onboarded', true, 'i1', 'safe_readonly', 'env:X', 'low', '{}'::jsonb, '{"user":"ann@example.com"}'::jsonb, now())`,
    tenantId,
  );
});
afterAll(async () => {
  await db?.$disconnect();
});

const caller = () =>
  appRouter.createCaller({ db, session: { user: { id: "u", email: "admin@example.com", role: "admin", tenantId }, expires: new Date(Date.now() + 600_000).toISOString() } });

describe("connections.list input", () => {
  it("refuses an owner filter without a word of 3 letters or digits, naming the field, and takes one with it", async () => {
    for (const owner of ["a@", "an", "@.", "a.b@c"]) {
      const err = await caller().connections.list({ namespace: "autonomy", owner }).catch((e: unknown) => e);
      expect(err, owner).toBeInstanceOf(TRPCError);
      expect((err as TRPCError).code).toBe("BAD_REQUEST");
      expect((err as TRPCError).message).toContain(SHORT_OWNER_MESSAGE);
      expect((err as TRPCError).message).toContain("owner");
    }
    const ok = await caller().connections.list({ namespace: "autonomy", owner: "ann@" });
    expect(ok.rows.map((r) => r.owner)).toEqual(["ann@example.com"]);
  });

  it("takes short free text (it then matches exact IDs and source types)", async () => {
    const byId = await caller().connections.list({ namespace: "autonomy", q: "r1" });
    expect(byId.rows.map((r) => r.resourceIds)).toEqual([["r1"]]);
  });
});
