/**
 * The pipeline with an adapter's per-attempt session (SourceAdapter.openAttempt): health check,
 * discovery and first sync go through one session, opened in the health stage and closed once
 * whatever the outcome (success, a failed stage, a named resource missing, a thrown error, the
 * deadline, a session that only arrives after the deadline). Then the real drivers: one
 * connection per attempt on the real PostgreSQL and MariaDB, counted by the recording proxy.
 */
import mysql from "mysql2/promise";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { jdbcAdapter } from "../../server/connectors/drivers/jdbc";
import { postgresAdapter } from "../../server/connectors/drivers/postgres";
import { ensurePostgresSandbox } from "../../server/connectors/sandbox/postgres-sandbox";
import type { DestinationGrant } from "../../server/connectors/safe-mode/destinations";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import type { AttemptSource, ConnectorResult, DiscoveredSchema, FailureKind, SourceAdapter } from "../../server/connectors/types";
import type { CredentialResolver } from "../../server/credentials/types";
import type { Db } from "../../server/db/client";
import { err, ok } from "../../server/lib/result";
import { listEvents } from "../../server/onboarding/connection-repository";
import { onboardConnection, type PipelineDeps } from "../../server/onboarding/pipeline";
import { ConnectionIntentSchema } from "../../server/onboarding/schemas";
import { withUrl } from "../connectors/native/ctx";
import { startRecordingProxy, type RecordingProxy } from "../connectors/recording-proxy";
import { createTestTenant, testDatabaseUrl, testDb } from "../helpers/db";

let db: Db;
let tenantId: string;
beforeAll(() => {
  db = testDb();
});
afterAll(async () => db.$disconnect());
beforeEach(async () => {
  tenantId = await createTestTenant(db, "attempt");
});

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const SCHEMA: DiscoveredSchema = { streams: [{ name: "things", fields: [{ name: "id", type: "integer" }] }] };
const credentials = (secret: Record<string, string>): CredentialResolver => ({ resolve: async () => ok(secret) });

function deps(adapter: SourceAdapter, over: Partial<PipelineDeps> = {}): PipelineDeps {
  return { db, credentials: credentials({ token: "attempt-token-value" }), connectors: () => ({ adapter }), policy: async () => makePolicy(), ...over };
}

const intent = (sourceType: string, resourceIds: string[], config: Record<string, unknown> = {}) =>
  ConnectionIntentSchema.parse({
    source_type: sourceType,
    resource_ids: resourceIds,
    scopes_mode: "safe_readonly",
    credential_locator: "env:AAM_SECRET_TEST_ATTEMPT",
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
    owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
    config,
  });

type Step = FailureKind | "throw" | "hang";
type Plan = { open?: FailureKind | "after-abort"; health?: Step; discover?: Step | "missing"; sample?: Step };

/** An adapter whose session follows `plan`; it logs each call; its standalone calls must not be used. */
function sessionAdapter(plan: Plan, log: string[]): SourceAdapter {
  const step = async <T>(name: string, s: Step | "missing" | undefined, value: T): Promise<ConnectorResult<T>> => {
    log.push(name);
    if (s === "throw") throw new Error(`${name} blew up`);
    if (s === "hang") return never();
    if (s && s !== "missing") return err({ kind: s, message: `${name} failed (${s})` });
    return ok(value);
  };
  const unused = async (): Promise<never> => {
    throw new Error("a standalone call was used although the adapter has openAttempt");
  };
  const source: AttemptSource = {
    healthCheck: () => step("health", plan.health, { latencyMs: 1 }),
    discover: () =>
      step("discover", plan.discover, plan.discover === "missing" ? { ...SCHEMA, resources: [{ id: "org_1", kind: "org", found: false, reason: "absent" as const }] } : { ...SCHEMA, resources: [{ id: "org_1", kind: "org", found: true }] }),
    sample: () => step("sample", plan.sample, [{ stream: "things", data: { id: 1 } }]),
    close: async () => {
      log.push("close");
    },
  };
  return {
    healthCheck: unused,
    discover: unused,
    sample: unused,
    async openAttempt(ctx) {
      log.push("open");
      if (plan.open === "after-abort") {
        // a session that arrives only after the attempt gave up on it
        await new Promise<void>((r) => ctx.signal?.addEventListener("abort", () => r(), { once: true }));
        await new Promise((r) => setImmediate(r));
        log.push("opened late");
        return ok(source);
      }
      if (plan.open) return err({ kind: plan.open, message: `connect failed (${plan.open})` });
      return ok(source);
    },
  };
}

describe("the pipeline with a per-attempt session", () => {
  const run = async (plan: Plan, over: Partial<PipelineDeps> = {}) => {
    const log: string[] = [];
    const r = await onboardConnection(deps(sessionAdapter(plan, log), over), tenantId, intent("salesforce", ["org_1"]));
    return { r, log, events: await listEvents(db, r.connection_id) };
  };

  it("ACTIVE: health, discovery and sample through the one session, then it is closed", async () => {
    const { r, log, events } = await run({});
    expect(r).toMatchObject({ status: "ACTIVE", first_sync_rows: 1 });
    expect(log).toEqual(["open", "health", "discover", "sample", "close"]);
    expect(events.map((e) => [e.stage, e.outcome])).toEqual([
      ["credentials", "ok"],
      ["health_check", "ok"],
      ["discover", "ok"],
      ["first_sync", "ok"],
    ]);
  });

  it("a session that cannot be opened is the health check's failure, with its status mapping; nothing to close", async () => {
    const net = await run({ open: "network" });
    expect(net.r).toMatchObject({ status: "NETWORK_BLOCKED", message: "connect failed (network)" });
    expect(net.log).toEqual(["open"]);
    expect(net.events.at(-1)).toMatchObject({ stage: "health_check", outcome: "fail", status: "NETWORK_BLOCKED" });
    const auth = await run({ open: "auth" });
    expect(auth.r.status).toBe("AWAITING_CREDENTIALS");
  });

  it.each<[string, Plan, string, string[]]>([
    ["a failed health check", { health: "auth" }, "AWAITING_CREDENTIALS", ["open", "health", "close"]],
    ["a failed discovery", { discover: "other" }, "HEALING", ["open", "health", "discover", "close"]],
    ["a named resource discovery did not find", { discover: "missing" }, "HEALING", ["open", "health", "discover", "close"]],
    ["a failed first sync", { sample: "other" }, "HEALING", ["open", "health", "discover", "sample", "close"]],
    ["a thrown error", { sample: "throw" }, "ERROR", ["open", "health", "discover", "sample", "close"]],
  ])("%s: the same status as stage by stage, and the session is closed once", async (_what, plan, status, calls) => {
    const { r, log } = await run(plan);
    expect(r.status).toBe(status);
    expect(log).toEqual(calls);
  });

  it("the deadline closes the session while a stage hangs (an adapter that ignores its signal), once", async () => {
    const { r, log } = await run({ sample: "hang" }, { attemptDeadlineMs: 300 });
    expect(r.status).toBe("HEALING");
    expect(r.message).toMatch(/deadline of 0\.3 s \(during the first sync\)/);
    expect(log).toEqual(["open", "health", "discover", "sample", "close"]);
  });

  it("a session that only arrives after the deadline is closed when it arrives", async () => {
    const { r, log } = await run({ open: "after-abort" }, { attemptDeadlineMs: 300 });
    expect(r.status).toBe("NETWORK_BLOCKED");
    expect(r.message).toMatch(/deadline of 0\.3 s \(during the health check\)/);
    await vi.waitFor(() => expect(log).toEqual(["open", "opened late", "close"]));
  });
});

describe("the real SQL drivers: one connection per attempt", () => {
  const grant = (port: number): DestinationGrant => ({ catalogHosts: [], hosts: [{ pattern: "127.0.0.1", ports: [port], sourceTypes: [], origin: "approved" }], folders: [], forbiddenFolders: [] });
  let pgProxy: RecordingProxy;
  let myProxy: RecordingProxy;
  let sandboxUrl: string;
  const table = `aam_attempt_pipe_${randomBytes(4).toString("hex")}`;
  const root = async <T>(fn: (c: mysql.Connection) => Promise<T>) => {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", password: "", database: "test" });
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    const admin = testDatabaseUrl();
    sandboxUrl = (await ensurePostgresSandbox(admin)).url;
    pgProxy = await startRecordingProxy({ protocol: "postgres", upstream: { host: "127.0.0.1", port: Number(new URL(admin).port || 5432) } });
    myProxy = await startRecordingProxy({ protocol: "mysql", upstream: { host: "127.0.0.1", port: 3306 } });
    await root(async (c) => {
      await c.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)`);
      await c.query(`INSERT INTO \`${table}\` VALUES ?`, [Array.from({ length: 25 }, (_, i) => [i + 1, `row ${i + 1}`])]);
    });
  });
  afterAll(async () => {
    await pgProxy?.close();
    await myProxy?.close();
    await root((c) => c.query(`DROP TABLE IF EXISTS \`${table}\``));
  });

  const pgDeps = () =>
    deps(postgresAdapter, {
      credentials: credentials({ dsn: withUrl(sandboxUrl, { host: "127.0.0.1", port: pgProxy.port }) }),
      destinations: async () => grant(pgProxy.port),
    });

  it("PostgreSQL: ACTIVE over one connection, closed afterwards", async () => {
    const before = pgProxy.connections();
    const r = await onboardConnection(pgDeps(), tenantId, intent("postgres", ["sandbox"], { schemas: ["sandbox"] }));
    expect(r).toMatchObject({ status: "ACTIVE", first_sync_rows: 20 });
    expect(pgProxy.connections() - before).toBe(1);
    await vi.waitFor(() => expect(pgProxy.open()).toBe(0));
  });

  it("PostgreSQL: a named table that does not exist ends HEALING in words, over one connection, closed", async () => {
    const before = pgProxy.connections();
    const r = await onboardConnection(pgDeps(), tenantId, intent("postgres", ["sandbox.orders", "sandbox.aam_no_such_table"]));
    expect(r.status).toBe("HEALING");
    expect(r.message).toContain("sandbox.aam_no_such_table");
    expect(pgProxy.connections() - before).toBe(1);
    await vi.waitFor(() => expect(pgProxy.open()).toBe(0));
  });

  it("MariaDB (jdbc): ACTIVE over one connection, closed afterwards", async () => {
    const before = myProxy.connections();
    const d = deps(jdbcAdapter, { credentials: credentials({ dsn: `mysql://root:@127.0.0.1:${myProxy.port}/test` }), destinations: async () => grant(myProxy.port) });
    const r = await onboardConnection(d, tenantId, intent("jdbc", [table]));
    expect(r).toMatchObject({ status: "ACTIVE", first_sync_rows: 20 });
    expect(myProxy.connections() - before).toBe(1);
    await vi.waitFor(() => expect(myProxy.open()).toBe(0));
  });
});
