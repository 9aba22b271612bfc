/**
 * Funnel arithmetic on a known mix of outcomes, day-one coverage per cohort day, heal, the
 * stuck-job reaper, and the demo namespace untouched by every autonomy operation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import type { SourceAdapter } from "../../server/connectors/types";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";
import type { Db } from "../../server/db/client";
import { seedDatabase } from "../../server/db/seed";
import { describeFunnel, getFunnel } from "../../server/onboarding/funnel";
import { healConnections, HealRefused, queueHeal } from "../../server/onboarding/heal";
import { onboardConnection, type PipelineDeps } from "../../server/onboarding/pipeline";
import { ConnectionIntentSchema } from "../../server/onboarding/schemas";
import { upsertSettings } from "../../server/onboarding/settings-repository";
import { createMigratedScratch } from "../helpers/db";
import { scriptedAdapter, type Script } from "../helpers/scripted-adapter";

let scratch: Awaited<ReturnType<typeof createMigratedScratch>>;
let db: Db;
let tenantId: string;

beforeAll(async () => {
  scratch = await createMigratedScratch(5);
  db = scratch.db;
  tenantId = (await seedDatabase(db, { adminEmail: "a@f.test", execEmail: "e@f.test", sloTarget: 0.9 })).tenantId;
  process.env.AAM_SECRET_FUNNEL_TOKEN = "funnel-token";
});
afterAll(async () => {
  await scratch?.drop();
});

function deps(byResource: Record<string, Script>): PipelineDeps {
  const adapters = new Map<string, SourceAdapter>();
  return {
    db,
    credentials: createCredentialResolver({ db, encryptionKey: parseEncryptionKey("c".repeat(64)) }),
    connectors: () => ({
      adapter: {
        // the script is chosen by the connection's first resource id
        healthCheck: (ctx) => pick(ctx.resourceIds[0]!).healthCheck(ctx),
        discover: (ctx) => pick(ctx.resourceIds[0]!).discover(ctx),
        sample: (ctx, s) => pick(ctx.resourceIds[0]!).sample(ctx, s),
      },
    }),
    policy: async () => makePolicy(),
  };
  function pick(id: string): SourceAdapter {
    if (!adapters.has(id)) adapters.set(id, scriptedAdapter(byResource[id] ?? {}));
    return adapters.get(id)!;
  }
}

const intent = (id: string, over: Record<string, unknown> = {}) =>
  ConnectionIntentSchema.parse({
    source_type: "github",
    resource_ids: [id],
    credential_locator: "env:AAM_SECRET_FUNNEL_TOKEN",
    risk_level: "med",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T10:00:00Z" },
    owner: { user: "o@f.test", confidence: 0.8, why: "repo_owner" },
    ...over,
  });

const demoSnapshot = async () => JSON.stringify(await db.connection.findMany({ where: { namespace: "demo" }, orderBy: { id: "asc" }, include: { events: true } }));

describe("funnel", () => {
  it("counts a known mix exactly, and re-posting cannot inflate it", async () => {
    const demoBefore = await demoSnapshot();
    const scripts: Record<string, Script> = {
      a1: {}, a2: {}, a3: {}, a4: {}, a5: {}, a6: {},
      n1: { health: "network" }, t1: { health: "timeout" },
      h1: { sample: "other" },
      e1: { health: "other" },
    };
    const d = deps(scripts);
    for (const id of Object.keys(scripts)) await onboardConnection(d, tenantId, intent(id));
    await onboardConnection(d, tenantId, intent("c1", { credential_locator: "consent:github" }));
    await onboardConnection(d, tenantId, intent("u1", { source_type: "geocities" }));
    await onboardConnection(d, tenantId, intent("s1", { evidence: { status: "Unsanctioned", source: "CASB", ts: "2026-11-20T10:00:00Z" } }));
    // every intent again: counts are of connections, not posts
    for (const id of Object.keys(scripts)) await onboardConnection(d, tenantId, intent(id));

    const f = await getFunnel(db, tenantId, "autonomy");
    expect(f).toMatchObject({
      namespace: "autonomy",
      received: 13,
      eligible: 11,
      reachable: 7, // 6 active + 1 healing
      active: 6,
      awaiting_credentials: 1,
      network_blocked: 2,
      unsupported_type: 1,
      not_sanctioned: 1,
      healing: 1,
      error: 1,
      pending: 0,
      coverage: Math.round((6 / 11) * 10_000) / 10_000,
      slo_met: false,
      target: 0.9,
    });
    expect(describeFunnel(f)).toContain("the SLO is MISSED");
    expect(await demoSnapshot()).toBe(demoBefore);
  });

  it("computes day-one coverage per cohort day from first receipt and first activation", async () => {
    const other = await db.tenant.create({ data: { slug: "cohorts", name: "Cohorts" } });
    const d = deps({ x: {}, y: {}, z: {}, w: { health: "network" } });
    for (const id of ["x", "y", "z", "w"]) await onboardConnection(d, other.id, intent(id));
    // x: received on Nov 1, active within 24 h; y: Nov 1, active after 30 h; z and w: Nov 2
    const at = (s: string) => new Date(s);
    const set = (rid: string, first: string, activated: string | null) =>
      db.connection.updateMany({ where: { tenantId: other.id, resourceIds: { equals: [rid] } }, data: { firstReceivedAt: at(first), activatedAt: activated ? at(activated) : null } });
    await set("x", "2026-11-01T08:00:00Z", "2026-11-01T09:00:00Z");
    await set("y", "2026-11-01T20:00:00Z", "2026-11-03T02:00:00Z");
    await set("z", "2026-11-02T10:00:00Z", "2026-11-02T10:05:00Z");
    await set("w", "2026-11-02T11:00:00Z", null);
    const f = await getFunnel(db, other.id, "autonomy", { target: 0.5, now: at("2026-11-05T00:00:00Z") });
    expect(f.day_one).toEqual([
      { day: "2026-11-01", received: 2, eligible: 2, active_day_one: 1, coverage: 0.5 },
      { day: "2026-11-02", received: 2, eligible: 2, active_day_one: 1, coverage: 0.5 },
    ]);
    expect(f).toMatchObject({ active: 3, eligible: 4, coverage: 0.75, slo_met: true, target: 0.5 });
  });
});

describe("heal", () => {
  it("re-runs HEALING connections of one namespace, promotes those that pass, and leaves others alone", async () => {
    const t = await db.tenant.create({ data: { slug: "heal", name: "Heal" } });
    const failing: Script = { sample: "other" };
    const d1 = deps({ p: failing, q: failing });
    await onboardConnection(d1, t.id, intent("p"));
    await onboardConnection(d1, t.id, intent("q"));
    await onboardConnection(d1, t.id, intent("p", { namespace: "autonomy-eu" }));
    const demoBefore = await demoSnapshot();

    const progress: string[] = [];
    const d2 = deps({ p: {}, q: failing });
    const report = await healConnections(d2, t.id, "autonomy", { onProgress: (done, total, last) => progress.push(`${done}/${total} ${last.status}`) });
    expect(report.total).toBe(2);
    expect(report.healed).toBe(1);
    expect(progress).toHaveLength(2);
    const statuses = await db.connection.findMany({ where: { tenantId: t.id }, select: { namespace: true, resourceIds: true, status: true } });
    expect(statuses.find((s) => s.namespace === "autonomy" && s.resourceIds[0] === "p")!.status).toBe("ACTIVE");
    expect(statuses.find((s) => s.namespace === "autonomy" && s.resourceIds[0] === "q")!.status).toBe("HEALING");
    expect(statuses.find((s) => s.namespace === "autonomy-eu")!.status).toBe("HEALING");
    await expect(healConnections(d2, tenantId, "demo")).rejects.toBeInstanceOf(HealRefused);

    // heal-all of a namespace goes through the durable queue
    const queued: string[] = [];
    const q = await queueHeal(db, async (ids) => void queued.push(...ids), t.id, "autonomy-eu");
    expect(q).toEqual({ namespace: "autonomy-eu", queued: 1 });
    expect((await db.connection.findUniqueOrThrow({ where: { id: queued[0] } })).status).toBe("PENDING");
    await expect(queueHeal(db, async () => undefined, tenantId, "demo")).rejects.toBeInstanceOf(HealRefused);
    expect(await demoSnapshot()).toBe(demoBefore);
  });
});

describe("settings", () => {
  it("autonomy-mode settings change only the autonomy namespace", async () => {
    const demoBefore = await demoSnapshot();
    const demoSettings = await db.setting.findUniqueOrThrow({ where: { tenantId_namespace: { tenantId, namespace: "demo" } } });
    const s = await upsertSettings(db, tenantId, "autonomy", { safeMode: true, metricsEnabled: true, maxSampleRecords: 20, rateLimitPerMinute: 30 });
    expect(s).toMatchObject({ safeMode: true, rateLimitPerMinute: 30, maxSampleRecords: 20 });
    expect(await db.setting.findUniqueOrThrow({ where: { tenantId_namespace: { tenantId, namespace: "demo" } } })).toEqual(demoSettings);
    expect(await demoSnapshot()).toBe(demoBefore);
  });
});
