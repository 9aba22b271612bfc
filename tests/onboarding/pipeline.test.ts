/**
 * The pipeline against the real database: every status mapping, idempotency (sequential and
 * 50-way concurrent), the 20-record cap, redaction, and the event history.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ALLOWLIST } from "../../server/connectors/allowlist";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import type { SourceAdapter } from "../../server/connectors/types";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";
import type { Db } from "../../server/db/client";
import { getFunnel } from "../../server/onboarding/funnel";
import { listEvents } from "../../server/onboarding/connection-repository";
import { onboardConnection, type PipelineDeps } from "../../server/onboarding/pipeline";
import { ConnectionIntentSchema, type ConnectionIntentInput } from "../../server/onboarding/schemas";
import { createTestTenant, testDb } from "../helpers/db";
import { scriptedAdapter, type Script } from "../helpers/scripted-adapter";

let db: Db;
let tenantId: string;
const TOKEN = "s3cr3t-pipeline-token-value";

beforeAll(() => {
  db = testDb();
  process.env.AAM_SECRET_TEST_PIPELINE_TOKEN = TOKEN;
});
afterAll(async () => {
  await db.$disconnect();
});
beforeEach(async () => {
  tenantId = await createTestTenant(db, "pipe");
});

function deps(script: Script = {}, calls?: { health: number; discover: number; sample: number }): PipelineDeps {
  const adapter: SourceAdapter = scriptedAdapter(script, calls);
  return {
    db,
    credentials: createCredentialResolver({ db, encryptionKey: parseEncryptionKey("a".repeat(64)) }),
    connectors: () => ({ adapter }),
    policy: async () => makePolicy(),
  };
}

function intent(over: Partial<ConnectionIntentInput> = {}) {
  return ConnectionIntentSchema.parse({
    source_type: "salesforce",
    resource_ids: ["org_00D1"],
    scopes_mode: "safe_readonly",
    credential_locator: "env:AAM_SECRET_TEST_PIPELINE_TOKEN",
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
    owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
    ...over,
  });
}

describe("status mapping", () => {
  it("ACTIVE with first_sync_rows and latency when every stage passes, and records each stage", async () => {
    const r = await onboardConnection(deps(), tenantId, intent());
    expect(r).toMatchObject({ status: "ACTIVE", funnel_stage: "active", first_sync_rows: 7, namespace: "autonomy", message: "Onboarded successfully in Safe Mode" });
    expect(typeof r.latency_ms).toBe("number");
    const events = await listEvents(db, r.connection_id);
    expect(events.map((e) => [e.stage, e.outcome])).toEqual([
      ["credentials", "ok"],
      ["health_check", "ok"],
      ["discover", "ok"],
      ["first_sync", "ok"],
    ]);
    for (const e of events) expect(e.durationMs).toBeGreaterThanOrEqual(0);
    const row = await db.connection.findUniqueOrThrow({ where: { id: r.connection_id } });
    expect(row.activatedAt).not.toBeNull();
    expect(row.schemaFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row.samplePreview)).not.toContain("tok-should-not-show");
  });

  it("never keeps more than 20 records whatever the adapter returns", async () => {
    const r = await onboardConnection(deps({ records: 500 }), tenantId, intent());
    expect(r.status).toBe("ACTIVE");
    expect(r.first_sync_rows).toBe(20);
  });

  it("UNSUPPORTED for a type outside the allowlist, stored and counted but not eligible", async () => {
    const calls = { health: 0, discover: 0, sample: 0 };
    const r = await onboardConnection(deps({}, calls), tenantId, intent({ source_type: "myspace" }));
    expect(r).toMatchObject({ status: "UNSUPPORTED", funnel_stage: "unsupported_type" });
    expect(calls.health).toBe(0);
    const f = await getFunnel(db, tenantId, "autonomy", { target: 0.9 });
    expect(f).toMatchObject({ received: 1, eligible: 0, unsupported_type: 1 });
  });

  it("accepts every one of the 33 allowlisted types", async () => {
    expect(ALLOWLIST).toHaveLength(33);
    // one secret per connector, as an organisation keeps them (one secret is bound to one connector: secret-binding.ts)
    for (const t of ALLOWLIST) process.env[`AAM_SECRET_TEST_PIPELINE_${t.toUpperCase()}`] = `${TOKEN}-${t}`;
    const results = await Promise.all(ALLOWLIST.map((t) => onboardConnection(deps(), tenantId, intent({ source_type: t, credential_locator: `env:AAM_SECRET_TEST_PIPELINE_${t.toUpperCase()}` }))));
    expect(results.map((r) => r.status)).toEqual(ALLOWLIST.map(() => "ACTIVE"));
  });

  it("NOT_SANCTIONED when evidence is not Sanctioned, without touching the source", async () => {
    const calls = { health: 0, discover: 0, sample: 0 };
    const r = await onboardConnection(deps({}, calls), tenantId, intent({ evidence: { status: "Shadow", source: "CASB", ts: "2025-11-08T18:00:00Z" } }));
    expect(r.status).toBe("NOT_SANCTIONED");
    expect(calls.health).toBe(0);
  });

  it("AWAITING_CREDENTIALS with a consent link for consent: locators", async () => {
    const r = await onboardConnection(deps(), tenantId, intent({ credential_locator: "consent:salesforce" }));
    expect(r.status).toBe("AWAITING_CREDENTIALS");
    expect(r.consent_url).toBe(`/connections/${r.connection_id}/consent`);
    expect(r.message).toContain(r.consent_url);
  });

  it("AWAITING_CREDENTIALS with the reason when a secret is missing", async () => {
    const r = await onboardConnection(deps(), tenantId, intent({ credential_locator: "env:AAM_SECRET_TEST_NOT_SET_ANYWHERE" }));
    expect(r.status).toBe("AWAITING_CREDENTIALS");
    expect(r.message).toContain("AAM_SECRET_TEST_NOT_SET_ANYWHERE");
    expect(r.consent_url).toBeUndefined();
  });

  it.each([
    ["network", "NETWORK_BLOCKED"],
    ["timeout", "NETWORK_BLOCKED"],
    ["egress_refused", "NETWORK_BLOCKED"],
    ["auth", "AWAITING_CREDENTIALS"],
    ["rate_limited", "ERROR"],
    ["other", "ERROR"],
  ] as const)("a %s failure at the health check → %s, not reachable", async (kind, status) => {
    const r = await onboardConnection(deps({ health: kind }), tenantId, intent());
    expect(r.status).toBe(status);
    const row = await db.connection.findUniqueOrThrow({ where: { id: r.connection_id } });
    expect(row.reachable).toBe(false);
  });

  it.each([["discover"], ["sample"]] as const)("a %s failure after the health check → HEALING, reachable", async (stage) => {
    const r = await onboardConnection(deps({ [stage]: "other" }), tenantId, intent());
    expect(r.status).toBe("HEALING");
    const f = await getFunnel(db, tenantId, "autonomy", { target: 0.9 });
    expect(f).toMatchObject({ reachable: 1, healing: 1, active: 0 });
  });

  it("an unexpected exception → ERROR with the secret redacted from the message", async () => {
    const r = await onboardConnection(deps({ health: "throw", throwMessage: `driver exploded with token ${TOKEN}` }), tenantId, intent());
    expect(r.status).toBe("ERROR");
    expect(r.message).not.toContain(TOKEN);
    expect(r.message).toContain("[redacted]");
    const events = await listEvents(db, r.connection_id);
    expect(JSON.stringify(events)).not.toContain(TOKEN);
  });
});

describe("idempotency on the natural key", () => {
  it("re-posting updates the same row and does not re-run an ACTIVE connection", async () => {
    const calls = { health: 0, discover: 0, sample: 0 };
    const a = await onboardConnection(deps({}, calls), tenantId, intent({ resource_ids: ["b", "a"] }));
    const b = await onboardConnection(deps({}, calls), tenantId, intent({ resource_ids: ["a", "b", "a"], risk_level: "high" }));
    expect(b.connection_id).toBe(a.connection_id);
    expect(calls.health).toBe(1);
    const row = await db.connection.findUniqueOrThrow({ where: { id: a.connection_id } });
    expect(row.riskLevel).toBe("high");
    expect(row.resourceIds).toEqual(["a", "b"]);
    expect(await db.connection.count({ where: { tenantId } })).toBe(1);
  });

  it("re-runs when the intent changed or the last attempt did not end ACTIVE", async () => {
    const calls = { health: 0, discover: 0, sample: 0 };
    const first = await onboardConnection(deps({ health: "network" }, calls), tenantId, intent());
    expect(first.status).toBe("NETWORK_BLOCKED");
    const second = await onboardConnection(deps({}, calls), tenantId, intent());
    expect(second).toMatchObject({ connection_id: first.connection_id, status: "ACTIVE" });
    // a changed intent (here the objects to inventory) re-runs an ACTIVE connection
    const third = await onboardConnection(deps({}, calls), tenantId, intent({ config: { objects: "Account, Contact" } }));
    expect(third.status).toBe("ACTIVE");
    expect(calls.health).toBe(3);
  });

  it("50 concurrent identical posts yield one connection and one count in the funnel", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => onboardConnection(deps(), tenantId, intent())));
    expect(new Set(results.map((r) => r.connection_id)).size).toBe(1);
    expect(await db.connection.count({ where: { tenantId } })).toBe(1);
    const f = await getFunnel(db, tenantId, "autonomy", { target: 0.9 });
    expect(f).toMatchObject({ received: 1, eligible: 1, active: 1, coverage: 1, slo_met: true });
  });
});
