/**
 * Single-flight OAuth refresh (issue 11 item 5) against an authorization server that rotates
 * refresh tokens and revokes the grant when a spent one comes back (rotating-as.ts).
 * Many callers find the same expired access token at once, from separate resolvers, separate
 * Prisma pools and separate OS processes: exactly one refresh reaches the server, every caller
 * gets the new access token, and the grant still works afterwards. Needs DATABASE_URL.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../server/db/client";
import { ok } from "../../server/lib/result";
import { loadCredential } from "../../server/credentials/credential-store";
import { createCredentialResolver, parseEncryptionKey, storeCredential } from "../../server/credentials/resolver";
import type { ConsentProvider } from "../../server/credentials/consent-flow";
import { createTestTenant, testDatabaseUrl } from "../helpers/db";
import { startRotatingAuthServer, type RotatingAuthServer } from "./rotating-as";

const keyHex = randomBytes(32).toString("hex");
const key = parseEncryptionKey(keyHex);
const provider = "rotating-idp";
const locator = `consent:${provider}`;

let as: RotatingAuthServer;
let dbA: Db;
let dbB: Db;
let tenantId: string;
let grantId: string;
let initial: { access_token: string; refresh_token: string };

const lookup = () => (): ReturnType<typeof ok<ConsentProvider>> =>
  ok({ provider, displayName: "Rotating IdP", authorizeUrl: `${as.issuer}/auth`, tokenUrl: as.tokenUrl, issuer: as.issuer, clientId: as.clientId, clientSecret: as.clientSecret, scopes: [], scopeSeparator: " ", authorizeParams: {} });
const ctx = () => ({ tenantId, connectionId: "race", sourceType: provider, config: {} });
const resolverOn = (db: Db, nowMs = Date.now()) => createCredentialResolver({ db, encryptionKey: key, consentProviders: lookup(), now: () => new Date(nowMs) });

beforeAll(async () => {
  as = await startRotatingAuthServer({ latencyMs: 150 });
  // two pools, as two processes would have: nothing but PostgreSQL is shared between them
  dbA = createDb(testDatabaseUrl(), 10);
  dbB = createDb(testDatabaseUrl(), 10);
});
afterAll(async () => {
  await dbA?.$disconnect();
  await dbB?.$disconnect();
  await as?.close();
});
beforeEach(async () => {
  // consented an hour ago: the access token has just expired, the refresh token is good
  tenantId = await createTestTenant(dbA, "race");
  const g = as.issueGrant();
  grantId = g.grantId;
  initial = g;
  await storeCredential(dbA, key, {
    tenantId,
    locator,
    kind: "consent",
    bundle: { access_token: g.access_token, refresh_token: g.refresh_token, token_type: "bearer", token_url: as.tokenUrl, expires_at: new Date(Date.now() - 1_000).toISOString() },
    expiresAt: null,
  });
});

async function stored() {
  const s = await loadCredential(dbA, key, tenantId, locator, new Date());
  if (!s.ok || !s.value) throw new Error("no stored consent");
  return s.value.bundle;
}

/** After the race: one token for all, the rotated refresh token stored, and a later renewal works. */
async function expectGrantHealthy(outcomes: { ok: boolean; value?: Record<string, string>; error?: unknown }[], refreshesBefore: number) {
  expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  const tokens = new Set(outcomes.map((o) => o.value!.access_token));
  expect(tokens.size).toBe(1);
  const [token] = [...tokens];
  expect(token).not.toBe(initial.access_token);
  expect(as.accessTokenActive(token!)).toBe(true);
  expect(as.stats()).toMatchObject({ refreshes: refreshesBefore + 1, reuses: 0 });
  expect(as.grantActive(grantId)).toBe(true);
  const after = await stored();
  expect(after.access_token).toBe(token);
  expect(after.refresh_token).toBe(as.currentRefreshToken(grantId));
  expect(after.refresh_token).not.toBe(initial.refresh_token);

  // two hours later the renewed token is due too: the next renewal uses the rotated refresh token
  const later = await resolverOn(dbB, Date.now() + 2 * 3_600_000).resolve(locator, ctx());
  expect(later.ok).toBe(true);
  expect(as.stats()).toMatchObject({ refreshes: refreshesBefore + 2, reuses: 0 });
  expect(as.grantActive(grantId)).toBe(true);
  if (later.ok) expect(as.accessTokenActive(later.value.access_token!)).toBe(true);
}

describe("single-flight refresh of a consent grant", () => {
  it("20 parallel resolutions through 20 resolvers on two Prisma pools: one refresh, all get the new token, the grant stays valid", async () => {
    const before = as.stats().refreshes;
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => resolverOn(i % 2 ? dbB : dbA).resolve(locator, ctx())));
    await expectGrantHealthy(outcomes, before);
  });

  it("20 parallel resolutions in one resolver share one renewal", async () => {
    const before = as.stats().refreshes;
    const r = resolverOn(dbA);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => r.resolve(locator, ctx())));
    await expectGrantHealthy(outcomes, before);
  });

  it("2 OS processes × 10 resolvers each, started together: one refresh, all get the new token", async () => {
    const before = as.stats().refreshes;
    const child = path.join(import.meta.dirname, "refresh-race-child.ts");
    const job = { databaseUrl: testDatabaseUrl(), key: keyHex, tenantId, provider, issuer: as.issuer, tokenUrl: as.tokenUrl, clientId: as.clientId, clientSecret: as.clientSecret, n: 10, nowMs: Date.now() };
    const procs = [0, 1].map(() => {
      const p = spawn(process.execPath, ["--import", "tsx", child, JSON.stringify(job)], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NODE_ENV: "test" } });
      let stderr = "";
      p.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const lines = createInterface({ input: p.stdout });
      const queue: string[] = [];
      const waiters: ((l: string) => void)[] = [];
      lines.on("line", (l) => (waiters.shift() ?? ((x: string) => queue.push(x)))(l));
      const exited = new Promise<number | null>((r) => p.on("exit", r));
      const next = () =>
        queue.length ? Promise.resolve(queue.shift()!) : Promise.race([new Promise<string>((r) => waiters.push(r)), exited.then((code) => Promise.reject(new Error(`child exited ${code}: ${stderr.slice(-2000)}`)))]);
      return { p, next, exited };
    });
    expect(await Promise.all(procs.map((c) => c.next()))).toEqual(["ready", "ready"]);
    for (const c of procs) c.p.stdin.write("go\n");
    const results = await Promise.all(procs.map(async (c) => JSON.parse(await c.next()) as { ok: boolean; value?: Record<string, string> }[]));
    await Promise.all(procs.map((c) => c.exited));
    const outcomes = results.flat();
    expect(outcomes).toHaveLength(20);
    await expectGrantHealthy(outcomes, before);
  }, 60_000);

  it("a consent given while a refresh holds the lock waits for it and is then kept", async () => {
    const release = as.hold();
    try {
      const before = as.stats().refreshes;
      const refreshing = resolverOn(dbA).resolve(locator, ctx());
      // the refresh is at the server, holding the row
      while (as.stats().refreshes === before) await new Promise((r) => setTimeout(r, 10));
      let consentStored = false;
      const consent = storeCredential(dbB, key, { tenantId, locator, kind: "consent", bundle: { access_token: "at-new-consent", refresh_token: "rt-new-consent", token_url: as.tokenUrl }, expiresAt: null }).then(() => (consentStored = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(consentStored).toBe(false);
      release();
      expect((await refreshing).ok).toBe(true);
      await consent;
      expect(await stored()).toMatchObject({ access_token: "at-new-consent", refresh_token: "rt-new-consent" });
    } finally {
      release();
    }
  });

  it("the server really punishes uncoordinated refreshes: two callers sending the same refresh token revoke the grant", async () => {
    // what two processes did before the lock: both read the same stored refresh token and sent it
    const send = () =>
      fetch(as.tokenUrl, { method: "POST", body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: initial.refresh_token, client_id: as.clientId, client_secret: as.clientSecret }) }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }),
      );
    const [a, b] = await Promise.all([send(), send()]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    const winner = a.status === 200 ? a : b;
    expect(as.grantActive(grantId)).toBe(false);
    expect(as.accessTokenActive(winner.body.access_token!)).toBe(false);
    // and the admin is asked to consent again
    await storeCredential(dbA, key, { tenantId, locator, kind: "consent", bundle: { access_token: winner.body.access_token!, refresh_token: winner.body.refresh_token!, token_url: as.tokenUrl, expires_at: new Date(Date.now() - 1_000).toISOString() }, expiresAt: null });
    const r = await resolverOn(dbA).resolve(locator, ctx());
    expect(r.ok ? "ok" : r.error.kind).toBe("consent_required");
  });
});
