/**
 * Issue 10 item 7 through the whole pipeline (admission, credentials, the real drivers, the
 * destination grant, the status written): a named resource that discovery does not find is never
 * ACTIVE — HEALING when it is absent, AWAITING_CREDENTIALS when the credential may not see it —
 * and the stored reason names it. Real drivers against the HTTP sandbox (Salesforce, GitHub) and
 * the MongoDB wire stand-in; the org the token belongs to goes ACTIVE.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bindConnector } from "../../server/connectors/binding";
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import { SF_ORG_ID, startHttpSandbox, type HttpSandbox } from "../../server/connectors/sandbox/http-sandbox";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";
import type { Db } from "../../server/db/client";
import { getConnectionById } from "../../server/onboarding/connection-repository";
import { createDestinationLoader } from "../../server/onboarding/destination-grant";
import { addApprovedDestination } from "../../server/onboarding/destination-repository";
import { parseConnectionIntent } from "../../server/onboarding/intent-admission";
import { admitIntent, runAttempt, type PipelineDeps } from "../../server/onboarding/pipeline";
import { createTestTenant, ownSecret, testDb } from "../helpers/db";
import { startMongoWire, type MongoWire } from "../helpers/mongo-wire";

let db: Db;
let tenantId: string;
let deps: PipelineDeps;
let web: HttpSandbox;
let mongo: MongoWire;

beforeAll(async () => {
  db = testDb();
  web = await startHttpSandbox({});
  mongo = await startMongoWire({ dbs: { shop: { orders: [{ _id: 1, total: 9.5 }] }, payroll: { salaries: [{ _id: 1 }] } }, denied: ["payroll"] });
  deps = {
    db,
    credentials: createCredentialResolver({ db, encryptionKey: parseEncryptionKey("d".repeat(64)) }),
    connectors: bindConnector,
    policy: async () => makePolicy({ requestTimeoutMs: 3_000, ratePerMinute: 60_000 }),
    destinations: createDestinationLoader(db, { ttlMs: 0 }),
  };
});
afterAll(async () => {
  await web?.close();
  await mongo?.close();
  await db.$disconnect();
});
/** the tenant's own secrets (what goes to hosts its admin approved), by name */
const secret: Record<"SF" | "GH" | "MONGO", string> = { SF: "", GH: "", MONGO: "" };
beforeEach(async () => {
  tenantId = await createTestTenant(db, "named");
  secret.SF = await ownSecret(db, tenantId, "NAMED_SF", JSON.stringify({ access_token: web.token }));
  secret.GH = await ownSecret(db, tenantId, "NAMED_GH", web.token);
  secret.MONGO = await ownSecret(db, tenantId, "NAMED_MONGO", JSON.stringify({ dsn: `${mongo.url}/` }));
  // an admin approved the local stand-ins, as for a customer's own hosts
  for (const [port, sourceTypes] of [[new URL(web.urlFor("github")).port, ["salesforce", "github"]], [String(mongo.port), ["mongo"]]] as const) {
    await addApprovedDestination(db, tenantId, { kind: "host", pattern: "127.0.0.1", ports: [Number(port)], sourceTypes: [...sourceTypes], note: "test stand-in" }, { label: "admin@test" });
  }
});

async function onboard(sourceType: string, resourceIds: string[], config: Record<string, unknown>, locator: string) {
  const parsed = parseConnectionIntent({
    source_type: sourceType,
    resource_ids: resourceIds,
    scopes_mode: "safe_readonly",
    credential_locator: locator,
    namespace: "autonomy",
    risk_level: "low",
    evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
    owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
    config,
  });
  if (!parsed.ok) throw new Error(`intent refused: ${JSON.stringify(parsed.issues)}`);
  const a = await admitIntent(db, tenantId, parsed.intent);
  await runAttempt(deps, a.id);
  return (await getConnectionById(db, a.id))!;
}

describe("named resources through the pipeline: never ACTIVE unless discovery found each one", () => {
  it("Salesforce: the token's own org and an existing sObject go ACTIVE; a missing sObject HEALING; a hidden one or another org AWAITING_CREDENTIALS — each named", async () => {
    const sf = (ids: string[]) => onboard("salesforce", ids, { base_url: web.urlFor("salesforce") }, secret.SF);
    const active = await sf([`org_${SF_ORG_ID.slice(0, 15)}`, "Account"]);
    expect(active.status, active.statusReason ?? "").toBe("ACTIVE");

    const missing = await sf(["Account", "Invoice__c"]);
    expect(missing.status).toBe("HEALING");
    expect(missing.reachable).toBe(true);
    expect(missing.statusReason).toContain('sObject "Invoice__c"');
    expect(missing.statusReason).not.toContain('"Account"');

    const hidden = await sf(["LoginHistory"]);
    expect(hidden.status).toBe("AWAITING_CREDENTIALS");
    expect(hidden.statusReason).toContain('sObject "LoginHistory" (the credential may not see it');
    const otherOrg = await sf(["org_00D000000000001"]);
    expect(otherOrg.status).toBe("AWAITING_CREDENTIALS");
    expect(otherOrg.statusReason).toContain('Salesforce org "org_00D000000000001"');
  });

  it("GitHub: an org that exists goes ACTIVE; an intent naming one that does not ends HEALING, naming it", async () => {
    const ok = await onboard("github", ["acme"], { org: "acme", base_url: web.urlFor("github") }, secret.GH);
    expect(ok.status, ok.statusReason ?? "").toBe("ACTIVE");
    const gone = await onboard("github", ["no-such-org-aam"], { org: "acme", base_url: web.urlFor("github") }, secret.GH);
    expect(gone.status).toBe("HEALING");
    expect(gone.statusReason).toContain('organization "no-such-org-aam"');
  });

  it("MongoDB: an existing collection goes ACTIVE; a missing one HEALING; one in a database the user may not read AWAITING_CREDENTIALS — each named", async () => {
    const mg = (ids: string[]) => onboard("mongo", ids, { host: "127.0.0.1", port: mongo.port }, secret.MONGO);
    const active = await mg(["shop.orders"]);
    expect(active.status, active.statusReason ?? "").toBe("ACTIVE");
    const missing = await mg(["shop.orders", "shop.invoices"]);
    expect(missing.status).toBe("HEALING");
    expect(missing.statusReason).toContain('collection "shop.invoices" (MongoDB has no collection invoices of database shop)');
    const hidden = await mg(["payroll.salaries"]);
    expect(hidden.status).toBe("AWAITING_CREDENTIALS");
    expect(hidden.statusReason).toContain('collection "payroll.salaries" (the credential may not read collection salaries of database payroll');
  });
});
