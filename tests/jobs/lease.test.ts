/**
 * Issue 11, items 1 and 3: one attempt at a time per connection (lease + heartbeat, takeover of
 * expired leases only), tries counted per onboarding run, transient failures retried and never
 * terminal, heal covering ERROR, and overlapping concurrent batches that never deadlock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import type { ConnectorContext, ConnectorResult, HealthInfo, SourceAdapter } from "../../server/connectors/types";
import type { CredentialFailure, CredentialResolver } from "../../server/credentials/types";
import type { Db } from "../../server/db/client";
import { err, ok } from "../../server/lib/result";
import { healConnections } from "../../server/onboarding/heal";
import { beat, drain, undrain, workerId } from "../../server/onboarding/lease";
import { admitIntent, admitIntents, runAttempt, runAttemptDetailed, type PipelineDeps } from "../../server/onboarding/pipeline";
import { ConnectionIntentSchema, type ConnectionIntent } from "../../server/onboarding/schemas";
import { backoffMs, isTransientConnectorFailure, isTransientCredentialFailure, isTransientError } from "../../server/onboarding/transient";
import { createMigratedScratch } from "../helpers/db";

let scratch: Awaited<ReturnType<typeof createMigratedScratch>>;
let db: Db;
let tenantId: string;

beforeAll(async () => {
  scratch = await createMigratedScratch(8);
  db = scratch.db;
  tenantId = (await db.tenant.create({ data: { slug: "lease", name: "Lease" } })).id;
});
afterAll(async () => {
  await scratch?.drop();
});

let n = 0;
const intent = (over: Partial<ConnectionIntent> = {}): ConnectionIntent =>
  ConnectionIntentSchema.parse({
    source_type: "github",
    resource_ids: [`repo-${++n}`],
    credential_locator: "env:LEASE_TOKEN",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
    owner: { user: "o@example.com", confidence: 0.9, why: "test" },
    ...over,
  });

type Calls = { health: number; configs: unknown[]; signals: AbortSignal[] };
/** an adapter whose health check runs `health` (default: ok at once) */
function adapter(calls: Calls, health?: (ctx: ConnectorContext) => Promise<ConnectorResult<HealthInfo>>): SourceAdapter {
  return {
    async healthCheck(ctx) {
      calls.health++;
      calls.configs.push(ctx.config);
      calls.signals.push(ctx.signal!);
      return health ? health(ctx) : ok({ latencyMs: 1 });
    },
    async discover() {
      return ok({ streams: [{ name: "things", fields: [{ name: "id", type: "integer" }] }] });
    },
    async sample() {
      return ok([{ stream: "things", data: { id: 1 } }]);
    },
  };
}

const okCredentials: CredentialResolver = { resolve: async () => ok({ token: "t0k3n-value" }) };

function deps(a: SourceAdapter, over: Partial<PipelineDeps> = {}): PipelineDeps {
  return { db, credentials: okCredentials, connectors: () => ({ adapter: a }), policy: async () => makePolicy(), ...over };
}

function gate() {
  let open: () => void = () => undefined;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

const calls = (): Calls => ({ health: 0, configs: [], signals: [] });
const row = (id: string) => db.connection.findUniqueOrThrow({ where: { id } });
const until = async (what: string, fn: () => Promise<boolean> | boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("one attempt at a time", () => {
  it("a second attempt on a running connection (re-post, another job, heal) does not start", async () => {
    const c = calls();
    const g = gate();
    const d = deps(adapter(c, async () => (await g.p, ok({ latencyMs: 1 }))));
    const first = await admitIntent(db, tenantId, intent());
    const running = runAttempt(d, first.id);
    await until("the first try to reach the source", () => c.health === 1);
    // the same intent posted again while it runs: still PENDING, a job would be queued again…
    const again = await admitIntent(db, tenantId, intent({ resource_ids: (await row(first.id)).resourceIds }));
    expect(again).toMatchObject({ id: first.id, status: "PENDING", needsRun: true });
    // …and that job (or the stall reaper's) finds the attempt running and does nothing
    expect(await runAttempt(d, first.id)).toBeNull();
    const leased = await row(first.id);
    expect(leased.leaseOwner).toBe(workerId());
    expect(leased.leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now());
    g.open();
    expect((await running)?.status).toBe("ACTIVE");
    expect(c.health).toBe(1);
    const done = await row(first.id);
    expect(done).toMatchObject({ attempts: 1, leaseOwner: null, leaseExpiresAt: null });
  });

  it("another process's live lease is never taken over, even when it is late, while its worker beats", async () => {
    const c = calls();
    const d = deps(adapter(c));
    const a = await admitIntent(db, tenantId, intent());
    await db.connection.update({ where: { id: a.id }, data: { leaseOwner: "other-worker", leaseExpiresAt: new Date(Date.now() + 60_000) } });
    expect(await runAttempt(d, a.id)).toBeNull();
    // expired, but its worker is alive (a fresh heartbeat row): still not taken over
    await db.workerHeartbeat.create({ data: { id: "other-worker" } });
    await db.$executeRaw`UPDATE connections SET lease_expires_at = now() - interval '1 second' WHERE id = ${a.id}::uuid`;
    expect(await runAttempt(d, a.id)).toBeNull();
    expect(c.health).toBe(0);
    // its worker stopped beating: the expired lease is taken over, and the lost try counts
    await db.$executeRaw`UPDATE worker_heartbeats SET seen_at = now() - interval '1 minute' WHERE id = 'other-worker'`;
    expect((await runAttempt(d, a.id))?.status).toBe("ACTIVE");
    expect(c.health).toBe(1);
    expect((await row(a.id)).runAttempts).toBe(1);
  });

  it("the heartbeat renews the lease; a lost lease stops the attempt, which then writes nothing", async () => {
    const c = calls();
    const d = deps(adapter(c, (ctx) => new Promise((resolve) => ctx.signal!.addEventListener("abort", () => resolve(err({ kind: "timeout", message: "aborted" }))))));
    const a = await admitIntent(db, tenantId, intent());
    const running = runAttemptDetailed(d, a.id);
    await until("the try to start", () => c.health === 1);
    const before = (await row(a.id)).leaseExpiresAt!.getTime();
    await new Promise((r) => setTimeout(r, 30));
    await beat();
    expect((await row(a.id)).leaseExpiresAt!.getTime()).toBeGreaterThan(before);
    // another worker took it over (say this process froze past its lease)
    await db.connection.update({ where: { id: a.id }, data: { leaseOwner: "thief", attempts: { increment: 1 } } });
    await beat();
    expect(c.signals[0]!.aborted).toBe(true);
    expect(await running).toEqual({ row: null, handedBack: false });
    const after = await row(a.id);
    expect(after).toMatchObject({ status: "PENDING", leaseOwner: "thief" });
    expect(await db.connectionEvent.count({ where: { connectionId: a.id } })).toBe(0);
  });

  it("a changed intent posted while it runs supersedes the try, which starts again with the new intent", async () => {
    const c = calls();
    const g = gate();
    const d = deps(adapter(c, async (ctx) => (c.health === 1 ? await Promise.race([g.p, new Promise((r) => ctx.signal!.addEventListener("abort", r))]) : undefined, ok({ latencyMs: 1 }))));
    const base = intent({ config: { org: "old" } });
    const a = await admitIntent(db, tenantId, base);
    const running = runAttempt(d, a.id);
    await until("the first try", () => c.health === 1);
    await admitIntent(db, tenantId, { ...base, config: { org: "new" } });
    await beat();
    const done = await running;
    g.open();
    expect(done?.status).toBe("ACTIVE");
    expect(c.health).toBe(2);
    expect(c.configs[1]).toEqual({ org: "new" });
    const events = await db.connectionEvent.findMany({ where: { connectionId: a.id } });
    expect(new Set(events.map((e) => e.attempt))).toEqual(new Set([done!.attempts]));
  });

  it("graceful shutdown hands a running connection back untouched", async () => {
    const c = calls();
    const d = deps(adapter(c, (ctx) => new Promise((resolve) => ctx.signal!.addEventListener("abort", () => resolve(err({ kind: "timeout", message: "aborted" }))))));
    const a = await admitIntent(db, tenantId, intent());
    const running = runAttemptDetailed(d, a.id);
    await until("the try to start", () => c.health === 1);
    drain();
    try {
      expect(await running).toEqual({ row: null, handedBack: true });
      expect(await runAttemptDetailed(d, a.id)).toEqual({ row: null, handedBack: true }); // a job that starts now hands back too
    } finally {
      undrain();
    }
    expect(await row(a.id)).toMatchObject({ status: "PENDING", leaseOwner: null, runAttempts: 0 });
    expect(await db.connectionEvent.count({ where: { connectionId: a.id } })).toBe(0);
    expect((await runAttempt(deps(adapter(calls())), a.id))?.status).toBe("ACTIVE"); // the next worker takes it
  });
});

describe("tries per onboarding run", () => {
  it("gives up only after five real tries, and a new run starts counting again", async () => {
    const c = calls();
    const d = deps(adapter(c));
    const it1 = intent();
    const a = await admitIntent(db, tenantId, it1);
    // four tries of this run died with their worker, the fifth is lost with its worker too
    await db.$executeRaw`UPDATE connections SET run_attempts = 3, attempts = 40, lease_owner = 'dead', lease_expires_at = now() - interval '1 s' WHERE id = ${a.id}::uuid`;
    expect((await runAttempt(d, a.id))?.status).toBe("ACTIVE"); // the 5th try runs
    expect(c.health).toBe(1);

    const b = await admitIntent(db, tenantId, intent());
    await db.$executeRaw`UPDATE connections SET run_attempts = 4, lease_owner = 'dead', lease_expires_at = now() - interval '1 s' WHERE id = ${b.id}::uuid`;
    const gaveUp = await runAttempt(d, b.id);
    expect(gaveUp).toMatchObject({ status: "ERROR", statusReason: expect.stringMatching(/did not complete after 5 attempts/) });
    expect(c.health).toBe(1);

    // a lifetime of attempts in earlier runs does not count: heal starts a new run (and covers ERROR)
    await db.connection.update({ where: { id: b.id }, data: { attempts: 99 } });
    const healed = await healConnections(d, tenantId, "autonomy", { connectionId: b.id });
    expect(healed.outcomes).toEqual([{ id: b.id, status: "ACTIVE", reason: expect.any(String) }]);
    expect(await row(b.id)).toMatchObject({ status: "ACTIVE", runAttempts: 0 });
  });
});

describe("transient is not terminal", () => {
  it("retries a Vault 503 with backoff and ends ACTIVE, with the retries in the history", async () => {
    const c = calls();
    let vault = 0;
    const credentials: CredentialResolver = {
      resolve: async () => (++vault <= 2 ? err({ kind: "unreadable", message: "Vault read of secret/app failed (HTTP 503: service unavailable)" }) : ok({ token: "t0k3n-value" })),
    };
    const a = await admitIntent(db, tenantId, intent());
    const done = await runAttempt(deps(adapter(c), { credentials }), a.id);
    expect(done?.status).toBe("ACTIVE");
    expect(vault).toBe(3);
    const retries = await db.connectionEvent.findMany({ where: { connectionId: a.id, outcome: "retry" }, orderBy: { id: "asc" } });
    expect(retries.map((e) => e.message)).toEqual([expect.stringMatching(/HTTP 503.*retrying in .* s \(try 1 of 5\)/), expect.stringMatching(/try 2 of 5/)]);
    expect((await row(a.id)).runAttempts).toBe(2);
  });

  it("retries a deadlock or serialization failure thrown mid-attempt instead of ending in ERROR", async () => {
    const c = calls();
    let policyCalls = 0;
    const policy = async () => {
      if (++policyCalls === 1) throw Object.assign(new Error("deadlock detected"), { code: "40P01" });
      if (policyCalls === 2) throw Object.assign(new Error("could not serialize access due to concurrent update"), { code: "40001" });
      return makePolicy();
    };
    const a = await admitIntent(db, tenantId, intent());
    expect((await runAttempt(deps(adapter(c), { policy }), a.id))?.status).toBe("ACTIVE");
    expect(policyCalls).toBe(3);
  });

  it("keeps the honest final status when the retries run out, and ERROR for what a retry cannot fix", async () => {
    const c = calls();
    const a = await admitIntent(db, tenantId, intent());
    const timedOut = await runAttempt(deps(adapter(c, async () => err({ kind: "timeout", message: "the source did not answer within 4 s" }))), a.id);
    expect(timedOut).toMatchObject({ status: "NETWORK_BLOCKED", statusReason: expect.stringMatching(/did not answer within 4 s \(after 2 tries\)/) });
    expect(c.health).toBe(2);

    const b = await admitIntent(db, tenantId, intent());
    const boom = await runAttempt(deps(adapter(calls(), async () => { throw new TypeError("cannot read properties of undefined"); })), b.id);
    expect(boom).toMatchObject({ status: "ERROR", statusReason: expect.stringMatching(/Unexpected error/) });
    expect((await row(b.id)).runAttempts).toBe(0);
  });

  it("classifies errors: database, socket and DNS hiccups are transient; answers are not", () => {
    expect(isTransientError(Object.assign(new Error("x"), { code: "40P01" }))).toBe(true);
    expect(isTransientError(Object.assign(new Error("x"), { code: "40001" }))).toBe(true);
    expect(isTransientError({ name: "PrismaClientKnownRequestError", code: "P1001", message: "Can't reach database server" })).toBe(true);
    expect(isTransientError(new Error("wrapped", { cause: Object.assign(new Error("getaddrinfo EAI_AGAIN db"), { code: "EAI_AGAIN" }) }))).toBe(true);
    expect(isTransientError({ message: "x", meta: { driverAdapterError: { cause: { kind: "ConnectionClosed" } } } })).toBe(true);
    expect(isTransientError(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isTransientError(new TypeError("cannot read properties of undefined"))).toBe(false);
    expect(isTransientError(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    const cred = (message: string): CredentialFailure => ({ kind: "unreadable", message });
    expect(isTransientCredentialFailure(cred("Vault is sealed"))).toBe(true);
    expect(isTransientCredentialFailure(cred("token endpoint answered HTTP 502"))).toBe(true);
    expect(isTransientCredentialFailure(cred("token endpoint is unreachable (EAI_AGAIN)"))).toBe(true);
    expect(isTransientCredentialFailure(cred("Vault AppRole login failed (HTTP 400: invalid role or secret ID)"))).toBe(false);
    expect(isTransientCredentialFailure({ kind: "missing", message: "not set" })).toBe(false);
    expect(isTransientConnectorFailure({ kind: "rate_limited", message: "HTTP 429" })).toBe(true);
    expect(isTransientConnectorFailure({ kind: "network", message: "api.github.com: EAI_AGAIN" })).toBe(true);
    expect(isTransientConnectorFailure({ kind: "network", message: "api.github.com: ECONNREFUSED" })).toBe(false);
    expect(isTransientConnectorFailure({ kind: "auth", message: "HTTP 401" })).toBe(false);
    for (let retry = 1; retry <= 8; retry++) {
      const lo = backoffMs(retry, { random: () => 0 });
      const hi = backoffMs(retry, { random: () => 0.999 });
      expect(lo).toBe(Math.min(8_000, 500 * 2 ** (retry - 1)) / 2);
      expect(hi).toBeLessThanOrEqual(8_000);
      expect(hi).toBeGreaterThan(lo);
    }
  });
});

describe("overlapping batches", () => {
  it("two concurrent batches with the same keys in opposite orders never deadlock", { timeout: 60_000 }, async () => {
    const t = (await db.tenant.create({ data: { slug: "overlap", name: "Overlap" } })).id;
    for (let round = 0; round < 15; round++) {
      const items = Array.from({ length: 200 }, (_, i) => intent({ resource_ids: [`shared-${round}-${i}`], config: { v: round } }));
      const reversed = [...items].reverse().map((x) => ({ ...x, config: { v: round + 100 } }));
      const [one, two] = await Promise.all([admitIntents(db, t, items), admitIntents(db, t, reversed)]);
      expect(one).toHaveLength(200);
      expect(new Set([...one, ...two].map((o) => o.id)).size).toBe(200);
    }
  });
});
