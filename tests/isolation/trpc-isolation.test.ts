/**
 * Tenant isolation for every tRPC procedure (issue 12): the procedures are enumerated from
 * `appRouter._def.procedures`, so a new one is covered without touching this file. Tenant A has
 * one of everything (connections in each state, a consent request, an approved destination, API
 * keys, users, an open invite, audit entries). Then every procedure is called as tenant B's admin,
 * B's exec and a signed-out visitor, with inputs generated from its zod schema in which every id
 * field is, in turn, each of A's object ids. Asserted: no answer contains anything of A (ids,
 * emails, resource ids, patterns, key prefixes), A's rows are byte-for-byte the same afterwards,
 * and the procedures that address one object answer NOT_FOUND for A's objects.
 */
import { randomBytes } from "node:crypto";
import { TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/client";
import { acceptLink } from "../../server/people/accept-invite";
import { inviteUser } from "../../server/people/invite-user";
import { createTenant } from "../../server/tenants/tenant-repository";
import { testDb } from "../helpers/db";

type Router = typeof import("../../server/trpc/router").appRouter;
type AnyProcedure = { _def: { type: "query" | "mutation" | "subscription"; inputs: unknown[] } };

let db: Db;
let appRouter: Router;
const rand = () => randomBytes(4).toString("hex");

type TenantFixture = {
  tenantId: string;
  slug: string;
  admin: { id: string; email: string };
  exec: { id: string; email: string };
  ids: Record<string, string>;
  markers: string[];
};

async function seedTenant(label: string): Promise<TenantFixture> {
  const slug = `iso-${label}-${rand()}`;
  const t = await createTenant(db, { slug, name: `Isolation ${label}`, adminEmail: `admin@${slug}.test`, sloTarget: 0.9 });
  const admin = await db.user.findUniqueOrThrow({ where: { email: t.admin_email }, select: { id: true, email: true } });
  const actor = { id: admin.id, tenantId: t.tenant_id, email: admin.email };
  const execEmail = `exec@${slug}.test`;
  const inv = await inviteUser({ db }, actor, { email: execEmail, role: "exec" });
  if (!inv.ok) throw new Error(inv.error.message);
  await acceptLink({ db }, { token: inv.value.path.split("/").pop()!, password: "isolation-pass-phrase-1" });
  const exec = await db.user.findUniqueOrThrow({ where: { email: execEmail }, select: { id: true, email: true } });
  const open = await inviteUser({ db }, actor, { email: `pending@${slug}.test`, role: "admin" });
  if (!open.ok) throw new Error(open.error.message);
  const reset = await db.invite.create({
    data: { tenantId: t.tenant_id, kind: "reset", email: exec.email, role: "exec", userId: exec.id, tokenHash: randomBytes(32).toString("hex"), expiresAt: new Date(Date.now() + 3_600_000), createdBy: admin.email },
  });
  const res = `${label}-res-${rand()}`;
  const conn = (namespace: string, status: string, extra: Record<string, unknown> = {}) =>
    db.connection.create({
      data: {
        tenantId: t.tenant_id,
        namespace,
        sourceType: "github",
        resourceIds: [`${res}-${status}`],
        resourceKey: `${res}-${status}-${namespace}`,
        status: status as never,
        scopesMode: "safe_readonly",
        credentialLocator: status === "AWAITING_CREDENTIALS" ? "consent:github" : "env:AAM_SECRET_ISOLATION",
        riskLevel: "low",
        evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
        owner: { user: `owner@${slug}.test`, confidence: 0.9, why: "isolation" },
        ...extra,
      },
      select: { id: true },
    });
  const healing = await conn("autonomy", "HEALING", { reachable: true });
  const awaiting = await conn("autonomy", "AWAITING_CREDENTIALS", { statusReason: "admin consent needed" });
  const blocked = await conn("autonomy", "NETWORK_BLOCKED", { statusReason: "destination not approved", blockedDestination: { kind: "host", host: `${label}-blocked.example.com`, port: 443 } });
  const active = await conn("autonomy", "ACTIVE", { reachable: true, firstSyncRows: 3, activatedAt: new Date() });
  const demo = await conn("demo", "ACTIVE", { reachable: true });
  const consent = await db.consentRequest.create({
    data: {
      tenantId: t.tenant_id,
      connectionId: awaiting.id,
      userId: admin.id,
      userLabel: admin.email,
      provider: "github",
      stateHash: randomBytes(32).toString("hex"),
      redirectUri: "http://127.0.0.1:3000/api/oauth/callback",
      verifierCiphertext: Buffer.from("x"),
      verifierIv: Buffer.from("y"),
      verifierTag: Buffer.from("z"),
      keyId: "k1",
      expiresAt: new Date(Date.now() + 600_000),
      connectionIds: [awaiting.id],
    },
    select: { id: true },
  });
  const pattern = `${label}-${rand()}.internal.example`;
  const dest = await db.approvedDestination.create({ data: { tenantId: t.tenant_id, kind: "host", pattern, ports: [5432], createdBy: admin.email }, select: { id: true } });
  const key = await db.apiKey.findFirstOrThrow({ where: { tenantId: t.tenant_id }, select: { id: true, prefix: true } });
  await db.auditEvent.create({ data: { tenantId: t.tenant_id, actorId: admin.id, actorLabel: admin.email, action: "destination.added", target: pattern } });
  const ids = {
    healing: healing.id,
    awaiting: awaiting.id,
    blocked: blocked.id,
    active: active.id,
    demo: demo.id,
    consent: consent.id,
    destination: dest.id,
    apiKey: key.id,
    admin: admin.id,
    exec: exec.id,
    invite: open.value.id,
    reset: reset.id,
  };
  return { tenantId: t.tenant_id, slug, admin, exec, ids, markers: [t.tenant_id, ...Object.values(ids), admin.email, exec.email, `pending@${slug}.test`, res, pattern, key.prefix, `${label}-blocked.example.com`, `owner@${slug}.test`, slug] };
}

/** Everything of a tenant, as text: compared before and after B's calls. */
async function snapshot(tenantId: string): Promise<string> {
  const [tenant, connections, consents, destinations, keys, users, invites, settings, audit, credentials] = await Promise.all([
    db.tenant.findUnique({ where: { id: tenantId } }),
    db.connection.findMany({ where: { tenantId }, orderBy: { id: "asc" } }),
    db.consentRequest.findMany({ where: { tenantId }, orderBy: { id: "asc" } }),
    db.approvedDestination.findMany({ where: { tenantId }, orderBy: { id: "asc" } }),
    db.apiKey.findMany({ where: { tenantId }, orderBy: { id: "asc" } }),
    db.user.findMany({ where: { tenantId }, orderBy: { id: "asc" } }),
    db.invite.findMany({ where: { tenantId }, orderBy: { id: "asc" } }),
    db.setting.findMany({ where: { tenantId }, orderBy: { id: "asc" } }),
    db.auditEvent.findMany({ where: { tenantId }, orderBy: { id: "asc" } }),
    db.credential.findMany({ where: { tenantId }, orderBy: { id: "asc" } }),
  ]);
  return superjson.stringify({ tenant, connections, consents, destinations, keys, users, invites, settings, audit, credentials });
}

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; required?: string[]; enum?: unknown[]; const?: unknown; format?: string; pattern?: string; minimum?: number; exclusiveMinimum?: number; minLength?: number; default?: unknown; anyOf?: JsonSchema[]; items?: JsonSchema; minItems?: number };

/**
 * Inputs for a procedure from its zod input: one per id of A for every uuid field (so each id
 * field meets each of A's objects), plus one with a fresh id; other fields get plausible values.
 */
function inputsFor(proc: AnyProcedure, aIds: string[]): unknown[] {
  const parser = proc._def.inputs[0];
  if (!parser) return [undefined];
  const schema = z.toJSONSchema(parser as z.ZodType, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const uuidPaths: string[] = [];
  const build = (s: JsonSchema, key: string, path: string): unknown => {
    if (s.anyOf) return build(s.anyOf.find((x) => x.type !== "null") ?? s.anyOf[0]!, key, path);
    if (s.const !== undefined) return s.const;
    if (s.enum) return s.enum[0];
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
    switch (type) {
      case "object": {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(s.properties ?? {})) {
          const required = s.required?.includes(k);
          const isId = v.format === "uuid" || /(^id$|Id$)/.test(k);
          if (required || isId) out[k] = build(v, k, path ? `${path}.${k}` : k);
        }
        return out;
      }
      case "string":
        if (s.format === "uuid" || /(^id$|Id$)/.test(key)) {
          uuidPaths.push(path);
          return "00000000-0000-4000-8000-000000000000";
        }
        if (key === "namespace") return "autonomy";
        if (s.format === "email" || /email/i.test(key)) return `iso-${rand()}@b.test`;
        if (s.format === "date-time") return new Date().toISOString();
        if (s.pattern && !new RegExp(s.pattern).test("x".repeat(Math.max(1, s.minLength ?? 1)))) return /\\d/.test(s.pattern) ? "1" : "autonomy";
        return key === "pattern" ? `iso-${rand()}.b.example` : "x".repeat(Math.max(1, s.minLength ?? 1));
      case "integer":
      case "number":
        return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
      case "boolean":
        return false;
      case "array":
        return s.minItems && s.items ? Array.from({ length: s.minItems }, () => build(s.items!, key, path)) : [];
      default:
        return undefined;
    }
  };
  const base = build(schema, "", "");
  if (uuidPaths.length === 0) return [base];
  const setAt = (obj: unknown, path: string, value: string) => {
    const clone = structuredClone(obj) as Record<string, unknown>;
    const keys = path.split(".");
    let o = clone;
    for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[keys[keys.length - 1]!] = value;
    return clone;
  };
  const out: unknown[] = [base];
  for (const id of aIds) {
    let input = base;
    for (const p of uuidPaths) input = setAt(input, p, id);
    out.push(input);
  }
  return out;
}

function call(caller: unknown, path: string, input: unknown): Promise<unknown> {
  const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (i: unknown) => Promise<unknown>;
  return fn(input);
}

/** Procedures that address one object by id: for A's objects they must say NOT_FOUND. */
const ADDRESSED: Record<string, { input: (a: TenantFixture["ids"]) => unknown[] }> = {
  "connections.get": { input: (a) => [a.healing, a.awaiting, a.blocked, a.active, a.demo].map((id) => ({ id })) },
  "consents.get": { input: (a) => [{ id: a.awaiting }] },
  "apiKeys.revoke": { input: (a) => [{ id: a.apiKey }] },
  "settings.updateDestination": { input: (a) => [{ id: a.destination, pattern: "b.example.com", ports: "", sourceTypes: [], note: "" }] },
  "settings.removeDestination": { input: (a) => [{ id: a.destination }] },
  "settings.approveBlockedDestination": { input: (a) => [{ connectionId: a.blocked }] },
  "users.changeRole": { input: (a) => [a.admin, a.exec].flatMap((userId) => [{ userId, role: "exec" }, { userId, role: "admin" }]) },
  "users.setDisabled": { input: (a) => [a.admin, a.exec].flatMap((userId) => [{ userId, disabled: true }, { userId, disabled: false }]) },
  "users.resetPassword": { input: (a) => [{ userId: a.admin }, { userId: a.exec }] },
  "users.revokeInvite": { input: (a) => [{ inviteId: a.invite }, { inviteId: a.reset }] },
};

let A: TenantFixture;
let B: TenantFixture;

beforeAll(async () => {
  db = testDb();
  appRouter = (await import("../../server/trpc/router")).appRouter;
  A = await seedTenant("a");
  B = await seedTenant("b");
});

afterAll(async () => {
  const g = globalThis as unknown as { __aamServices?: { queue: Promise<{ close(): Promise<void> }>; waiter: { close(): Promise<void> }; db: Db } };
  if (g.__aamServices) {
    await (await g.__aamServices.queue).close();
    await g.__aamServices.waiter.close();
    await g.__aamServices.db.$disconnect();
  }
  await db?.$disconnect();
});

const session = (u: { id: string; email: string }, role: "admin" | "exec", tenantId: string) => ({ user: { id: u.id, email: u.email, role, tenantId }, expires: new Date(Date.now() + 600_000).toISOString() });

const leaks = (value: unknown, markers: string[]) => {
  const text = superjson.stringify(value);
  return markers.filter((m) => text.includes(m));
};

describe("tRPC isolation: tenant B never sees or changes tenant A", () => {
  it("every procedure, as B's admin, B's exec and signed out, with every id field set to each of A's objects", async () => {
    const procedures = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;
    const paths = Object.keys(procedures).sort();
    expect(paths.length).toBeGreaterThan(20);
    const before = await snapshot(A.tenantId);
    const callers = {
      admin: appRouter.createCaller({ db, session: session(B.admin, "admin", B.tenantId) }),
      exec: appRouter.createCaller({ db, session: session(B.exec, "exec", B.tenantId) }),
      anonymous: appRouter.createCaller({ db, session: null }),
    };
    const aIds = Object.values(A.ids);
    const problems: string[] = [];
    const reached = new Set<string>();
    for (const path of paths) {
      const proc = procedures[path]!;
      if (proc._def.type === "subscription") continue;
      const inputs = inputsFor(proc, aIds);
      for (const [who, caller] of Object.entries(callers)) {
        for (const input of inputs) {
          try {
            const out = await call(caller, path, input);
            if (who === "admin") reached.add(path);
            const leaked = leaks(out, A.markers);
            if (leaked.length) problems.push(`${path} as B's ${who} with ${JSON.stringify(input)} returned A's ${leaked.join(", ")}`);
          } catch (e) {
            if (!(e instanceof TRPCError)) {
              problems.push(`${path} as B's ${who} threw ${(e as Error).message}`);
              continue;
            }
            // refused by the input schema (a ZodError cause) is not reached; a use-case's own refusal is
            const refusedByInputSchema = e.code === "BAD_REQUEST" && e.cause instanceof z.ZodError;
            if (!refusedByInputSchema && who === "admin") reached.add(path);
            if (e.code === "INTERNAL_SERVER_ERROR") problems.push(`${path} as B's ${who}: ${e.message} ${(e.cause as Error | undefined)?.message ?? ""}`);
            const leaked = leaks(e.message, A.markers);
            if (leaked.length) problems.push(`${path} as B's ${who}: the error names A's ${leaked.join(", ")}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    // the generated inputs got past validation into every procedure at least once
    expect(paths.filter((p) => !reached.has(p))).toEqual([]);
    expect(await snapshot(A.tenantId)).toBe(before);
  }, 120_000);

  it("procedures that address one object answer NOT_FOUND for each of A's objects, and A's rows stay as they were", async () => {
    const before = await snapshot(A.tenantId);
    const asB = appRouter.createCaller({ db, session: session(B.admin, "admin", B.tenantId) });
    const procedures = Object.keys(appRouter._def.procedures);
    for (const [path, spec] of Object.entries(ADDRESSED)) {
      expect(procedures, `${path} is no longer a procedure: update this table`).toContain(path);
      for (const input of spec.input(A.ids)) {
        await expect(call(asB, path, input), `${path} ${JSON.stringify(input)}`).rejects.toMatchObject({ code: "NOT_FOUND" });
      }
    }
    expect(await snapshot(A.tenantId)).toBe(before);
  });

  it("lists are B's own: connections, consents, destinations, keys, users, invites and the audit log hold nothing of A", async () => {
    const asB = appRouter.createCaller({ db, session: session(B.admin, "admin", B.tenantId) });
    const asA = appRouter.createCaller({ db, session: session(A.admin, "admin", A.tenantId) });
    const [conns, pending, settings, keys, users, audit] = await Promise.all([
      asB.connections.list({ namespace: "autonomy" }),
      asB.consents.pending(),
      asB.settings.get(),
      asB.apiKeys.list(),
      asB.users.list(),
      asB.audit.list({ limit: 200 }),
    ]);
    const all = { conns, pending, settings, keys, users, audit };
    for (const [k, v] of Object.entries(all)) expect(leaks(v, A.markers), k).toEqual([]);
    // and each list does hold B's own objects (so "nothing of A" is not just "nothing")
    expect(superjson.stringify(conns)).toContain(B.ids.healing);
    expect(pending.connections.map((p) => p.id)).toContain(B.ids.awaiting);
    expect(pending.providers.map((p) => p.connectionId)).toContain(B.ids.awaiting);
    expect(settings.destinations.map((d) => d.id)).toContain(B.ids.destination);
    expect(keys.map((k) => k.id)).toContain(B.ids.apiKey);
    expect(users.users.map((u) => u.id).sort()).toEqual([B.ids.admin, B.ids.exec].sort());
    expect(users.invites.map((i) => i.id)).toContain(B.ids.invite);
    expect(audit.entries.every((e) => !A.markers.some((m) => e.target.includes(m) || e.actorLabel.includes(m)))).toBe(true);
    expect(audit.entries.length).toBeGreaterThan(0);
    // A's admin sees A's (the fixture is real)
    expect((await asA.users.list()).users.map((u) => u.id)).toContain(A.ids.exec);
  });
});
