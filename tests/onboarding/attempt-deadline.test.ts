/**
 * Issue 11 item 6: every try has an overall deadline enforced by the pipeline, whatever the
 * driver: an adapter that never answers (and ignores its abort signal) ends within the deadline,
 * with a timeout reason in words; a cooperative one sees its signal aborted at the deadline.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import type { SourceAdapter } from "../../server/connectors/types";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";
import type { Db } from "../../server/db/client";
import { err, ok } from "../../server/lib/result";
import { listEvents } from "../../server/onboarding/connection-repository";
import { attemptDeadlineMs, onboardConnection, type PipelineDeps } from "../../server/onboarding/pipeline";
import { ConnectionIntentSchema } from "../../server/onboarding/schemas";
import { createTestTenant, testDb } from "../helpers/db";

let db: Db;
let tenantId: string;
beforeAll(() => {
  db = testDb();
  process.env.AAM_SECRET_TEST_DEADLINE_TOKEN = "deadline-token-value";
});
afterAll(async () => db.$disconnect());
beforeEach(async () => {
  tenantId = await createTestTenant(db, "deadline");
});

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const SCHEMA = { streams: [{ name: "things", fields: [{ name: "id", type: "integer" }] }] };

function deps(adapter: SourceAdapter, deadlineMs: number): PipelineDeps {
  return {
    db,
    credentials: createCredentialResolver({ db, encryptionKey: parseEncryptionKey("a".repeat(64)) }),
    connectors: () => ({ adapter }),
    policy: async () => makePolicy(),
    attemptDeadlineMs: deadlineMs,
  };
}

const intent = (id: string) =>
  ConnectionIntentSchema.parse({
    source_type: "salesforce",
    resource_ids: [id],
    scopes_mode: "safe_readonly",
    credential_locator: "env:AAM_SECRET_TEST_DEADLINE_TOKEN",
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
    owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
  });

describe("the overall deadline of an attempt", () => {
  it("ends a health check that never answers (signal ignored) within the deadline, NETWORK_BLOCKED, in words, not retried", async () => {
    let calls = 0;
    const adapter: SourceAdapter = {
      healthCheck: () => (calls++, never()),
      discover: async () => ok(SCHEMA),
      sample: async () => ok([]),
    };
    const t0 = Date.now();
    const r = await onboardConnection(deps(adapter, 400), tenantId, intent("org_hang_health"));
    const took = Date.now() - t0;
    expect(took).toBeLessThan(3_000);
    expect(r.status).toBe("NETWORK_BLOCKED");
    expect(r.message).toBe("No answer from the source within the attempt's deadline of 0.4 s (during the health check); the attempt was stopped");
    expect(calls).toBe(1);
    const events = await listEvents(db, r.connection_id);
    expect(events.at(-1)).toMatchObject({ stage: "health_check", outcome: "fail", status: "NETWORK_BLOCKED" });
  });

  it("counts the whole try: a slow health check plus a discovery that never answers ends during discovery, HEALING", async () => {
    const adapter: SourceAdapter = {
      healthCheck: async () => (await new Promise((r) => setTimeout(r, 250)), ok({ latencyMs: 250 })),
      discover: () => never(),
      sample: async () => ok([]),
    };
    const t0 = Date.now();
    const r = await onboardConnection(deps(adapter, 500), tenantId, intent("org_hang_discover"));
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(r.status).toBe("HEALING");
    expect(r.message).toMatch(/deadline of 0\.5 s \(during discovery\)/);
  });

  it("aborts a cooperative adapter's signal at the deadline, and the reason is the deadline (the first sync)", async () => {
    let aborted = false;
    const adapter: SourceAdapter = {
      healthCheck: async () => ok({ latencyMs: 1 }),
      discover: async () => ok(SCHEMA),
      sample: (ctx) =>
        new Promise((resolve) => {
          ctx.signal?.addEventListener("abort", () => {
            aborted = true;
            resolve(err({ kind: "timeout", message: "request cancelled" }));
          });
        }),
    };
    const r = await onboardConnection(deps(adapter, 300), tenantId, intent("org_hang_sample"));
    expect(aborted).toBe(true);
    expect(r.status).toBe("HEALING");
    expect(r.message).toMatch(/^No answer from the source within the attempt's deadline of 0\.3 s \(during the first sync\)/);
  });

  it("defaults to six request timeouts, between 30 s and 5 min", () => {
    expect(attemptDeadlineMs(makePolicy({ requestTimeoutMs: 10_000 }))).toBe(60_000);
    expect(attemptDeadlineMs(makePolicy({ requestTimeoutMs: 1_000 }))).toBe(30_000);
    expect(attemptDeadlineMs(makePolicy({ requestTimeoutMs: 120_000 }))).toBe(300_000);
  });
});
