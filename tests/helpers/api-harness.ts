/**
 * AOD's REST API through the real route handlers, queue and worker on a scratch database of its
 * own (a scripted source adapter stands in for the sources), with every answer checked against
 * the app's OpenAPI document (tests/helpers/openapi-contract.ts).
 */
import { PREFIX_RELOAD_MS } from "../../server/auth/api-key-repository";
import { generateApiKey } from "../../server/auth/api-keys";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { seedDatabase } from "../../server/db/seed";
import { resetEnvForTests } from "../../server/env";
import { startWorker } from "../../server/jobs/worker";
import { createScratchDatabase } from "./db";
import { testEnv } from "./env";
import { createContract, type Contract } from "./openapi-contract";
import { scriptedAdapter } from "./scripted-adapter";

export const API_BASE = "http://aam.test";

export type Routes = {
  onboard: typeof import("../../app/api/connections/onboard/route");
  batch: typeof import("../../app/api/connections/onboard/batch/route");
  connection: typeof import("../../app/api/connections/[id]/route");
  funnel: typeof import("../../app/api/metrics/funnel/route");
  openapi: typeof import("../../app/api/openapi.json/route");
  health: typeof import("../../app/api/health/route");
};

export type ApiHarness = {
  db: Db;
  /** the scratch database's URL (for CLIs spawned by a test) */
  databaseUrl: string;
  tenantId: string;
  key: string;
  routes: Routes;
  contract: Contract;
  /** a fresh API key of the harness tenant, or of `forTenant` (its own rate bucket) */
  newKey(forTenant?: string): Promise<string>;
  /** calls a route handler and checks its answer against the OpenAPI document; returns status, body, headers */
  call(method: "get" | "post", docPath: string, res: Response | Promise<Response>): Promise<{ status: number; body: any; headers: Headers }>;
  post(url: string, body: unknown, headers?: Record<string, string>, raw?: boolean, key?: string): Request;
  get(url: string, key?: string): Request;
  /** connections outside the demo namespace */
  countRows(): Promise<number>;
  close(): Promise<void>;
};

export async function startApiHarness(opts: { ratePerMinute: number; records?: number; key?: string }): Promise<ApiHarness> {
  const scratch = await createScratchDatabase();
  await applyMigrations(scratch.url);
  testEnv.DATABASE_URL = scratch.url;
  testEnv.API_RATE_PER_MINUTE = String(opts.ratePerMinute);
  testEnv.ONBOARD_TIME_BUDGET_MS = "10000";
  testEnv.AAM_SECRET_API_HARNESS = "api-harness-token-value";
  resetEnvForTests();
  const key = opts.key ?? generateApiKey().key;
  const db = createDb(scratch.url, 5);
  const seeded = await seedDatabase(db, { adminEmail: "a@contract.test", execEmail: "e@contract.test", apiKey: key, sloTarget: 0.9 });
  const adapter = scriptedAdapter({ records: opts.records ?? 7 });
  const worker = await startWorker({
    databaseUrl: scratch.url,
    concurrency: 10,
    stuckAfterMs: 60_000,
    db,
    deps: {
      db,
      credentials: createCredentialResolver({ db, encryptionKey: parseEncryptionKey("c".repeat(64)) }),
      connectors: () => ({ adapter }),
      policy: async () => makePolicy(),
    },
  });
  const routes: Routes = {
    onboard: await import("../../app/api/connections/onboard/route"),
    batch: await import("../../app/api/connections/onboard/batch/route"),
    connection: await import("../../app/api/connections/[id]/route"),
    funnel: await import("../../app/api/metrics/funnel/route"),
    openapi: await import("../../app/api/openapi.json/route"),
    health: await import("../../app/api/health/route"),
  };
  const tenantId = seeded.tenantId;
  const contract = createContract();
  return {
    db,
    databaseUrl: scratch.url,
    tenantId,
    key,
    routes,
    contract,
    call: async (method, docPath, res) => contract.check(method, docPath, await res),
    async newKey(forTenant = tenantId) {
      const k = generateApiKey();
      await db.apiKey.create({ data: { tenantId: forTenant, name: `harness-${k.prefix}`, prefix: k.prefix, hash: k.hash } });
      // a key created outside this process's API-key module is seen once the live-prefix set is re-read
      await new Promise((r) => setTimeout(r, PREFIX_RELOAD_MS + 50));
      return k.key;
    },
    post: (url, body, headers = {}, raw = false, k = key) =>
      new Request(`${API_BASE}${url}`, { method: "POST", headers: { authorization: `Bearer ${k}`, "content-type": "application/json", ...headers }, body: raw ? (body as string) : JSON.stringify(body) }),
    get: (url, k = key) => new Request(`${API_BASE}${url}`, { headers: { authorization: `Bearer ${k}` } }),
    countRows: () => db.connection.count({ where: { tenantId, namespace: { not: "demo" } } }),
    async close() {
      await worker.stop();
      const { services } = await import("../../server/http/services");
      await (await services().queue).close();
      await services().waiter.close();
      await services().db.$disconnect();
      await db.$disconnect();
      await scratch.drop();
    },
  };
}

/** A valid intent for the scripted adapter (no config: the admission needs none). */
export const sampleIntent = (over: Record<string, unknown> = {}) => ({
  source_type: "slack",
  resource_ids: ["T0CONTRACT"],
  scopes_mode: "safe_readonly",
  credential_locator: "env:AAM_SECRET_API_HARNESS",
  namespace: "autonomy",
  risk_level: "low",
  evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
  owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
  ...over,
});
