/**
 * The connections list's input, as the page sends it through tRPC: a search inside text needs a
 * word of 3 letters or digits (server/onboarding/search-text.ts) — the owner filter refuses text
 * without one, in words, instead of reading every row of the namespace.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/client";
import { encodeCursor, parseCursor } from "../../server/onboarding/connection-query";
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

  it("refuses control characters in the text filters and says which field, before any of them reaches the database", async () => {
    for (const field of ["q", "owner", "sourceType"] as const) {
      const err = await caller().connections.list({ namespace: "autonomy", [field]: "ann\u0000@example.com" }).catch((e: unknown) => e);
      expect(err, field).toBeInstanceOf(TRPCError);
      expect((err as TRPCError).code, field).toBe("BAD_REQUEST");
      expect((err as TRPCError).message, field).toContain("control characters");
      expect(((err as TRPCError).cause as { issues?: { path: unknown[] }[] } | undefined)?.issues?.map((i) => i.path), field).toEqual([[field]]);
    }
  });

  it("takes short free text (it then matches exact IDs and source types)", async () => {
    const byId = await caller().connections.list({ namespace: "autonomy", q: "r1" });
    expect(byId.rows.map((r) => r.resourceIds)).toEqual([["r1"]]);
  });

  it("takes back a page's own cursor and refuses any other, naming the field", async () => {
    // two rows: a page of 1 ends after the first, and its cursor leads to the second
    await db.$executeRawUnsafe(
      `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, reachable, intent_id, scopes_mode, credential_locator, risk_level, evidence, owner, updated_at)
       VALUES (gen_random_uuid(), $1::uuid, 'paged', 'github', ARRAY['p1'], 'p1', 'ACTIVE', 'Onboarded', true, 'p1', 'safe_readonly', 'env:X', 'low', '{}'::jsonb, '{"user":"ann@example.com"}'::jsonb, now() - interval '1 minute'),
              (gen_random_uuid(), $1::uuid, 'paged', 'github', ARRAY['p2'], 'p2', 'ACTIVE', 'Onboarded', true, 'p2', 'safe_readonly', 'env:X', 'low', '{}'::jsonb, '{"user":"ann@example.com"}'::jsonb, now() - interval '2 minutes')`,
      tenantId,
    );
    const first = await caller().connections.list({ namespace: "paged", pageSize: 10, sort: "updatedAt", dir: "desc" });
    expect(first.rows.map((r) => r.resourceIds[0])).toEqual(["p1", "p2"]);
    expect(first.nextCursor).toBeNull(); // not a full page: nothing after it
    const one = await db.connection.findFirstOrThrow({ where: { tenantId, namespace: "paged", resourceKey: "p1" } });
    const after = encodeCursor({ sort: "updatedAt", dir: "desc", key: [one.updatedAt.toISOString()], id: one.id });
    const second = await caller().connections.list({ namespace: "paged", pageSize: 10, sort: "updatedAt", dir: "desc", after });
    expect(second.rows.map((r) => r.resourceIds[0])).toEqual(["p2"]);

    const other = (sort: string, dir: string, ...rest: unknown[]) => Buffer.from(JSON.stringify([sort, dir, ...rest])).toString("base64url");
    const refused = [
      encodeCursor({ sort: "updatedAt", dir: "asc", key: [one.updatedAt.toISOString()], id: one.id }), // another direction
      encodeCursor({ sort: "latencyMs", dir: "desc", key: [5], id: one.id }), // another sort
      other("updatedAt", "desc", "yesterday", one.id), // not a time
      other("updatedAt", "desc", one.updatedAt.toISOString(), "1 OR 1=1"), // not an id
      other("updatedAt", "desc", one.updatedAt.toISOString()), // no id
      other("updatedAt", "desc", one.updatedAt.toISOString(), one.updatedAt.toISOString(), one.id), // a key too many
      "not base64 json",
      Buffer.from("[").toString("base64url"),
    ];
    for (const text of refused) {
      const err = await caller().connections.list({ namespace: "paged", sort: "updatedAt", dir: "desc", after: text }).catch((e: unknown) => e);
      expect(err, text).toBeInstanceOf(TRPCError);
      expect((err as TRPCError).code).toBe("BAD_REQUEST");
      expect((err as TRPCError).message).toContain("start again from the first page");
    }
    // what a cursor may hold per sort: a status by name, a latency or none, a source type and resource key
    expect(parseCursor(other("status", "asc", "ACTIVE", one.id), "status", "asc")).toEqual({ sort: "status", dir: "asc", key: ["ACTIVE"], id: one.id });
    expect(parseCursor(other("status", "asc", "active'); --", one.id), "status", "asc")).toBeUndefined();
    expect(parseCursor(other("latencyMs", "asc", null, one.id), "latencyMs", "asc")?.key).toEqual([null]);
    expect(parseCursor(other("sourceType", "desc", "github", "p1", one.id), "sourceType", "desc")?.key).toEqual(["github", "p1"]);
    expect(parseCursor(other("sourceType", "desc", "git\u0000hub", "p1", one.id), "sourceType", "desc")).toBeUndefined();
  });
});
