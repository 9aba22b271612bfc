/**
 * Approved destinations from the admin's side, against the real database: validation in words
 * (DATA_DIR never approvable), every change audited with who, "approve this destination"
 * resuming exactly the connections the new rule covers, and the preview-masking setting.
 */
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listAudit } from "../../server/audit/audit-repository";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import { checkDestination } from "../../server/connectors/safe-mode/destinations";
import type { SourceAdapter } from "../../server/connectors/types";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";
import type { Db } from "../../server/db/client";
import { ok } from "../../server/lib/result";
import { approveBlockedDestination } from "../../server/onboarding/approve-destination";
import { BLOCKED_PAGE, viewConnectionPage } from "../../server/onboarding/connection-query";
import { createDestinationLoader } from "../../server/onboarding/destination-grant";
import { listApprovedDestinations } from "../../server/onboarding/destination-repository";
import { addDestination, changePreviewMasking, removeDestination, updateDestination, validateDestination, viewSettingsPage, type DestinationAdminDeps } from "../../server/onboarding/manage-destinations";
import { onboardConnection, runAttempt, type PipelineDeps } from "../../server/onboarding/pipeline";
import { ConnectionIntentSchema } from "../../server/onboarding/schemas";
import { createTestTenant, ownSecret, testDb } from "../helpers/db";

let db: Db;
let tenantId: string;
const DATA_DIR = path.resolve("/tmp/aam-approve-test-data");
const admin = { id: null, label: "ada@example.com" };

beforeAll(() => {
  db = testDb();
});
afterAll(async () => {
  await db.$disconnect();
});
/** the tenant's own secret: what goes to a host its admin approved */
let locator: string;
beforeEach(async () => {
  tenantId = await createTestTenant(db, "approve");
  locator = await ownSecret(db, tenantId, "APPROVE_TEST", "approve-test-token-value");
});

/** An adapter that connects to `localhost:<port>` through the trust boundary, like a SQL driver would, and samples one person. */
function adapter(port: number): SourceAdapter {
  return {
    async healthCheck(ctx) {
      const r = await checkDestination(ctx, "localhost", port);
      return r.ok ? ok({ latencyMs: 1 }) : r;
    },
    async discover() {
      return ok({ streams: [{ name: "people", fields: [{ name: "email", type: "string" }] }] });
    },
    async sample() {
      return ok([{ stream: "people", data: { email: "grace.hopper@example.com", phone: "+1 415-555-0112" } }]);
    },
  };
}

const loader = () => createDestinationLoader(db, { dataDir: DATA_DIR, ttlMs: 0 });

function pipelineDeps(port: number): PipelineDeps {
  return {
    db,
    credentials: createCredentialResolver({ db, encryptionKey: parseEncryptionKey("a".repeat(64)) }),
    connectors: () => ({ adapter: adapter(port) }),
    policy: async () => makePolicy(),
    destinations: loader(),
  };
}

function adminDeps(queued: string[]): DestinationAdminDeps {
  return { db, dataDir: DATA_DIR, settleMs: 0, enqueue: async (ids) => void queued.push(...ids) };
}

const intent = (sourceType: string, resource: string) =>
  ConnectionIntentSchema.parse({
    source_type: sourceType,
    resource_ids: [resource],
    scopes_mode: "safe_readonly",
    credential_locator: locator,
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
    owner: { user: "owner@example.com", confidence: 0.9, why: "test" },
  });

describe("validation in words", () => {
  const host = { kind: "host" as const, pattern: "db.corp.example", ports: "5432", sourceTypes: ["postgres"], note: "" };
  const problems = (input: Parameters<typeof validateDestination>[0]) => {
    const r = validateDestination(input, DATA_DIR);
    return r.ok ? [] : r.error.code === "INVALID" ? r.error.issues.map((i) => `${i.field}: ${i.message}`) : [r.error.message];
  };

  it("accepts host names, wildcards, addresses and CIDR ranges, normalised", () => {
    expect(validateDestination({ ...host, pattern: " DB.Corp.Example ", ports: "6432, 5432,5432" }, DATA_DIR)).toEqual({
      ok: true,
      value: { kind: "host", pattern: "db.corp.example", ports: [5432, 6432], sourceTypes: ["postgres"], note: "" },
    });
    for (const pattern of ["*.corp.example", "10.1.2.3", "10.20.0.0/16", "::1"]) expect(problems({ ...host, pattern })).toEqual([]);
  });

  it("refuses bad patterns, ports and source types with reasons", () => {
    expect(problems({ ...host, pattern: "http://db.corp.example/x" })).toEqual(["pattern: “http://db.corp.example/x” is a URL: enter only the host name (db.corp.example), and the port under Ports."]);
    expect(problems({ ...host, pattern: "db.corp.example:5432" })[0]).toMatch(/includes a port: enter the host alone/);
    expect(problems({ ...host, pattern: "db corp" })[0]).toMatch(/must be a host name, \*\.domain, an IP address or a CIDR range/);
    expect(problems({ ...host, pattern: "*.com" })[0]).toMatch(/wildcard must keep at least two labels/);
    expect(problems({ ...host, pattern: "10.0.0.0/4" })[0]).toMatch(/CIDR range this wide/);
    expect(problems({ ...host, pattern: "169.254.169.254" })[0]).toMatch(/metadata addresses .* are never reachable/);
    expect(problems({ ...host, ports: "0" })).toEqual([expect.stringMatching(/^ports: “0” is not a port: use whole numbers from 1 to 65535/)]);
    expect(problems({ ...host, ports: "65536" })[0]).toMatch(/“65536” is not a port/);
    expect(problems({ ...host, ports: "http" })[0]).toMatch(/“http” is not a port/);
    expect(problems({ ...host, sourceTypes: ["postgres", "myspace"] })).toEqual(["sourceTypes: “myspace” is not a supported source type."]);
  });

  it("folders must be absolute, and the app's data folder can never be approved", () => {
    const folder = { kind: "folder" as const, pattern: "/srv/exports/", ports: "", sourceTypes: ["filesource"], note: "" };
    expect(validateDestination(folder, DATA_DIR)).toMatchObject({ ok: true, value: { pattern: "/srv/exports", ports: [] } });
    expect(problems({ ...folder, pattern: "exports" })[0]).toMatch(/must be an absolute path/);
    expect(problems({ ...folder, pattern: DATA_DIR })[0]).toMatch(/inside the app's own data folder \(DATA_DIR\).*can never be approved/);
    expect(problems({ ...folder, pattern: path.join(DATA_DIR, "pg") })[0]).toMatch(/can never be approved/);
    expect(problems({ ...folder, pattern: "/" })[0]).toMatch(/contains the app's own data folder/);
  });
});

describe("approve this destination", () => {
  it("approves exactly host:port for the source type, audits it, and resumes the connections it covers", async () => {
    const pd = pipelineDeps(5432);
    const a = await onboardConnection(pd, tenantId, intent("postgres", "a"));
    const b = await onboardConnection(pd, tenantId, intent("postgres", "b"));
    const other = await onboardConnection(pd, tenantId, intent("mongo", "c"));
    for (const r of [a, b, other]) {
      expect(r.status).toBe("NETWORK_BLOCKED");
      expect(r.message).toMatch(/^Destination not approved: localhost:5432/);
    }
    expect((await viewConnectionPage(db, tenantId, a.connection_id))?.blocked_destination).toEqual({ kind: "host", host: "localhost", port: 5432 });

    // another tenant cannot approve (or even see) this tenant's connection
    const stranger = await createTestTenant(db, "stranger");
    expect(await approveBlockedDestination(adminDeps([]), stranger, admin, a.connection_id)).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });

    const queued: string[] = [];
    const r = await approveBlockedDestination(adminDeps(queued), tenantId, admin, a.connection_id);
    expect(r).toMatchObject({ ok: true, value: { resumed: 2, destination: { kind: "host", pattern: "localhost", ports: [5432], sourceTypes: ["postgres"], createdBy: admin.label } } });
    expect(queued.sort()).toEqual([a.connection_id, b.connection_id].sort());
    const audit = await listAudit(db, tenantId);
    expect(audit.map((e) => [e.action, e.actorLabel, e.target])).toEqual([["destination.approved", admin.label, "localhost:5432 for postgres"]]);
    expect(audit[0]!.details).toMatchObject({ connectionId: a.connection_id });

    // the resumed ones are PENDING and then go through; the mongo one (not covered) stays blocked
    expect((await viewConnectionPage(db, tenantId, a.connection_id))?.status).toBe("PENDING");
    for (const id of queued) expect((await runAttempt(pd, id))?.status).toBe("ACTIVE");
    expect((await viewConnectionPage(db, tenantId, other.connection_id))?.status).toBe("NETWORK_BLOCKED");
    expect(await approveBlockedDestination(adminDeps([]), tenantId, admin, a.connection_id)).toMatchObject({ ok: false, error: { code: "NOT_BLOCKED" } });
  });
  it("resumes every blocked connection the rule covers, however many (more than one page of them)", async () => {
    const pd = pipelineDeps(5432);
    const a = await onboardConnection(pd, tenantId, intent("postgres", "a"));
    expect(a.status).toBe("NETWORK_BLOCKED");
    // a new database subnet: thousands of connections blocked on the same destination, copies of this one
    const copies = BLOCKED_PAGE + 1_500;
    await db.$executeRawUnsafe(
      `INSERT INTO connections (id, tenant_id, namespace, source_type, resource_ids, resource_key, status, status_reason, intent_hash, scopes_mode,
         credential_locator, risk_level, evidence, owner, config, blocked_destination, updated_at)
       SELECT gen_random_uuid(), tenant_id, namespace, source_type, ARRAY['many-' || g], 'many-' || g, status, status_reason, intent_hash, scopes_mode,
         credential_locator, risk_level, evidence, owner, config, blocked_destination, now()
       FROM connections, generate_series(1, $2::int) g WHERE id = $1::uuid`,
      a.connection_id,
      copies,
    );
    const queued: string[] = [];
    const r = await approveBlockedDestination(adminDeps(queued), tenantId, admin, a.connection_id);
    expect(r).toMatchObject({ ok: true, value: { resumed: copies + 1 } });
    expect(new Set(queued).size).toBe(copies + 1);
    expect(await db.connection.count({ where: { tenantId, status: "NETWORK_BLOCKED" } })).toBe(0);
    expect(await db.connectionEvent.count({ where: { connection: { tenantId }, stage: "destination", status: "PENDING" } })).toBe(copies + 1);
  });
});

describe("the Settings page's changes", () => {
  it("adds, edits and removes destinations, each audited with who, and an added rule resumes what it covers", async () => {
    const pd = pipelineDeps(6432);
    const blocked = await onboardConnection(pd, tenantId, intent("postgres", "x"));
    expect(blocked.status).toBe("NETWORK_BLOCKED");

    const queued: string[] = [];
    const added = await addDestination(adminDeps(queued), tenantId, admin, { kind: "host", pattern: "localhost", ports: "5432", sourceTypes: ["postgres"], note: "corp db" });
    expect(added).toMatchObject({ ok: true, value: { resumed: 0 } }); // wrong port: not covered
    if (!added.ok) throw new Error("unreachable");
    const edited = await updateDestination(adminDeps(queued), tenantId, admin, added.value.destination.id, { kind: "host", pattern: "localhost", ports: "5432, 6432", sourceTypes: ["postgres"], note: "corp db" });
    expect(edited).toMatchObject({ ok: true, value: { resumed: 1, destination: { ports: [5432, 6432] } } });
    expect(queued).toEqual([blocked.connection_id]);
    expect((await runAttempt(pd, blocked.connection_id))?.status).toBe("ACTIVE");

    const bad = await updateDestination(adminDeps([]), tenantId, admin, added.value.destination.id, { kind: "host", pattern: "localhost", ports: "99999", sourceTypes: [], note: "" });
    expect(bad).toMatchObject({ ok: false, error: { code: "INVALID", message: expect.stringContaining("Ports: “99999” is not a port") } });

    expect(await removeDestination(adminDeps([]), tenantId, admin, added.value.destination.id)).toMatchObject({ ok: true });
    expect(await listApprovedDestinations(db, tenantId)).toEqual([]);
    expect(await removeDestination(adminDeps([]), tenantId, admin, added.value.destination.id)).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });

    const page = await viewSettingsPage(db, tenantId);
    // (the resumed connection's first use bound its secret: listed too, as secret_binding.bound)
    expect(page.recentChanges.filter((e) => e.action.startsWith("destination.")).map((e) => [e.action, e.actorLabel])).toEqual([
      ["destination.removed", admin.label],
      ["destination.updated", admin.label],
      ["destination.added", admin.label],
    ]);
    expect(page.recentChanges.find((e) => e.action === "destination.updated")!.details).toMatchObject({ before: { ports: [5432] }, after: { ports: [5432, 6432] } });

    // a busy log (sign-ins, heals, consents) after the last settings change does not hide it
    await db.$executeRawUnsafe(
      `INSERT INTO audit_events (tenant_id, actor_label, action, target, at) SELECT $1::uuid, 'u' || g || '@example.com', 'sign_in.succeeded', '', now() + g * interval '1 ms' FROM generate_series(1, 250) g`,
      tenantId,
    );
    expect((await viewSettingsPage(db, tenantId)).recentChanges.map((e) => e.action).filter((a) => a.startsWith("destination."))).toEqual(["destination.removed", "destination.updated", "destination.added"]);
  });

  it("masks the stored preview by default; turning masking off is audited and stores values as they are", async () => {
    await addDestination(adminDeps([]), tenantId, admin, { kind: "host", pattern: "localhost", ports: "7000", sourceTypes: [], note: "" });
    const pd = pipelineDeps(7000);
    const masked = await onboardConnection(pd, tenantId, intent("postgres", "m"));
    expect(masked.status).toBe("ACTIVE");
    expect((await viewConnectionPage(db, tenantId, masked.connection_id))?.sample_preview).toEqual([{ stream: "people", data: { email: "g•••@e•••.com", phone: "+1 •••-•••-••12" } }]);

    expect(await changePreviewMasking(db, tenantId, admin, false)).toEqual({ previewMasking: false });
    expect((await viewSettingsPage(db, tenantId)).previewMasking).toBe(false);
    const plain = await onboardConnection(pd, tenantId, intent("postgres", "p"));
    expect((await viewConnectionPage(db, tenantId, plain.connection_id))?.sample_preview).toEqual([{ stream: "people", data: { email: "grace.hopper@example.com", phone: "+1 415-555-0112" } }]);
    expect((await listAudit(db, tenantId, { action: "settings.preview_masking" })).map((e) => [e.target, e.actorLabel])).toEqual([["masking off", admin.label]]);
  });
});
