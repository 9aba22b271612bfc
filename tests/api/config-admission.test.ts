/**
 * Issue 8 acceptance, admission half, through the real route handlers on a database of its own:
 * every catalog entry's required and formatted config fields answer 422 with field paths, unknown
 * keys are refused, secret material anywhere in config is refused, a config nested 2,000 or 5,000
 * levels deep (or a whole body nested 100,000 levels) is a 422 and never a 500, and nothing is
 * written for any of them (single and batch).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOG } from "../../server/connectors/catalog";
import { exampleValue } from "../../server/connectors/catalog/config-fields";
import type { CatalogEntry, ConfigField } from "../../server/connectors/catalog/schema";
import { createDb, type Db } from "../../server/db/client";
import { applyMigrations } from "../../server/db/migrate";
import { seedDatabase } from "../../server/db/seed";
import { resetEnvForTests } from "../../server/env";
import { parseConnectionIntent } from "../../server/onboarding/intent-admission";
import { ConnectionIntentSchema } from "../../server/onboarding/schemas";
import { createScratchDatabase } from "../helpers/db";

const KEY = "aam_cfgtests_0123456789abcdefghijklmnop";
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let db: Db;
let tenantId: string;
let onboard: typeof import("../../app/api/connections/onboard/route");
let batch: typeof import("../../app/api/connections/onboard/batch/route");

const intent = (sourceType: string, config?: unknown, over: Record<string, unknown> = {}) => ({
  source_type: sourceType,
  resource_ids: ["res-1"],
  scopes_mode: "safe_readonly",
  credential_locator: "env:AAM_SECRET_CFG_TEST",
  namespace: "autonomy",
  risk_level: "low",
  evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
  owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
  ...(config === undefined ? {} : { config }),
  ...over,
});

const post = (url: string, body: unknown, raw = false) =>
  new Request(`http://aam.test${url}`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: raw ? (body as string) : JSON.stringify(body) });

const countRows = () => db.connection.count({ where: { tenantId, namespace: { not: "demo" } } });

async function refused(body: unknown, raw = false): Promise<{ status: number; paths: string[]; body: { error: { code: string; message: string; issues?: { path: string; message: string }[] } } }> {
  const res = await onboard.POST(post("/api/connections/onboard", body, raw));
  const json = await res.json();
  return { status: res.status, paths: (json.error?.issues ?? []).map((i: { path: string }) => i.path), body: json };
}

/** A config that satisfies every required field of the entry (from the declared examples). */
function validConfig(e: CatalogEntry): Record<string, unknown> {
  return Object.fromEntries(e.configFields.filter((f) => f.required).map((f) => [f.name, exampleValue(f)]));
}

/** A value of the right JSON kind for nothing this field accepts. */
function malformed(f: ConfigField): unknown {
  switch (f.type) {
    case "integer":
      return "80";
    case "boolean":
      return "yes";
    case "enum":
      return "not-one-of-them";
    case "string_list":
      return "public";
    case "string":
      return f.format || f.pattern ? "bad value/../@evil.example" : "x".repeat(f.maxLength + 1);
  }
}

/** `{"a":{"a":…"x"…}}` as JSON text: JSON.stringify itself would overflow the stack at these depths */
const deepText = (levels: number) => '{"a":'.repeat(levels - 1) + '"x"' + "}".repeat(levels - 1);
const withConfigText = (body: Record<string, unknown>, configText: string) => JSON.stringify({ ...body, config: "__CFG__" }).replace('"__CFG__"', configText);

const nest = (levels: number, leaf: unknown = "x") => {
  let v: unknown = leaf;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

beforeAll(async () => {
  scratch = await createScratchDatabase();
  await applyMigrations(scratch.url);
  process.env.DATABASE_URL = scratch.url;
  process.env.AUTH_SECRET ??= "d".repeat(64);
  process.env.ENCRYPTION_KEY ??= "e".repeat(64);
  process.env.API_RATE_PER_MINUTE = "1000000";
  resetEnvForTests();
  db = createDb(scratch.url, 3);
  tenantId = (await seedDatabase(db, { adminEmail: "a@cfg.test", execEmail: "e@cfg.test", apiKey: KEY, sloTarget: 0.9 })).tenantId;
  onboard = await import("../../app/api/connections/onboard/route");
  batch = await import("../../app/api/connections/onboard/batch/route");
});

afterAll(async () => {
  const { services } = await import("../../server/http/services");
  await Promise.resolve(services().queue).then((q) => q.close()).catch(() => undefined);
  await services().waiter.close().catch(() => undefined);
  await services().db.$disconnect();
  await db?.$disconnect();
  await scratch?.drop();
});

describe("every catalog entry's typed config (33 entries)", () => {
  const entries = Object.values(CATALOG);
  it("covers the whole catalog", () => {
    expect(entries).toHaveLength(33);
  });

  it.each(entries.map((e) => [e.sourceType, e] as const))("%s: required and formatted fields answer 422 with field paths; nothing is written", async (_t, e) => {
    const before = await countRows();
    const good = validConfig(e);
    expect(parseConnectionIntent(intent(e.sourceType, good)), "the declared examples are admitted").toMatchObject({ ok: true });

    for (const f of e.configFields.filter((x) => x.required)) {
      const { [f.name]: _dropped, ...rest } = good;
      const r = await refused(intent(e.sourceType, rest));
      expect(r.status, `${e.sourceType} without ${f.name}`).toBe(422);
      expect(r.body.error.code).toBe("VALIDATION_FAILED");
      expect(r.paths, `${e.sourceType} without ${f.name}`).toContain(`config.${f.name}`);
    }
    if (e.configFields.some((f) => f.required)) {
      const r = await refused(intent(e.sourceType));
      expect(r.status, `${e.sourceType} with no config`).toBe(422);
    }

    for (const f of e.configFields) {
      const r = await refused(intent(e.sourceType, { ...good, [f.name]: malformed(f) }));
      expect(r.status, `${e.sourceType}.${f.name} = ${JSON.stringify(malformed(f))}`).toBe(422);
      expect(r.paths, `${e.sourceType}.${f.name}`).toContain(`config.${f.name}`);
      expect(r.body.error.issues!.find((i) => i.path === `config.${f.name}`)!.message.length).toBeGreaterThan(0);
    }

    const unknown = await refused(intent(e.sourceType, { ...good, bogus_field: "x" }));
    expect(unknown.status).toBe(422);
    expect(unknown.paths).toContain("config.bogus_field");
    expect(await countRows()).toBe(before);
  });
});

describe("the sample intents", () => {
  it("are all admitted as written (seeds/intents/*.json)", async () => {
    const fs = await import("node:fs");
    const path = await import("node:path");
    const dir = path.resolve(import.meta.dirname, "../../seeds/intents");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) expect(parseConnectionIntent(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"))), f).toMatchObject({ ok: true });
  });
});

describe("secret material and shape limits in config", () => {
  it("refuses secret-looking keys at any depth and userinfo in URL-like values, with paths", async () => {
    const before = await countRows();
    const cases: [unknown, string][] = [
      [intent("github", { org: "acme", base_url: "https://u:p@api.github.com" }), "config.base_url"],
      [intent("salesforce", { instance_url: "https://admin:hunter2@acme.my.salesforce.com" }), "config.instance_url"],
      [intent("gitlab", { token_url: "https://evil.example/token" }), "config.token_url"],
      [intent("github", { org: "acme", client_secret: "s" }), "config.client_secret"],
      // types outside the catalog still get the generic checks (they are stored UNSUPPORTED otherwise)
      [intent("myspace", { x: { y: { password: "hunter2" } } }), "config.x.y.password"],
      [intent("myspace", { x: [{ api_key: "k" }] }), "config.x.0.api_key"],
      [intent("myspace", { a: { b: "mongodb://u:p@db.example" } }), "config.a.b"],
      [intent("myspace", { a: { pem: "-----BEGIN RSA PRIVATE KEY-----\nMII…" } }), "config.a.pem"],
    ];
    for (const [body, path] of cases) {
      const r = await refused(body);
      expect(r.status, path).toBe(422);
      expect(r.paths, path).toContain(path);
    }
    expect(await countRows()).toBe(before);
  });

  it.each([2_000, 5_000])("a config nested %i levels deep is a 422 with the path, never a 500; nothing is written", async (levels) => {
    const before = await countRows();
    for (const sourceType of ["github", "myspace"]) {
      const r = await refused(withConfigText(intent(sourceType), deepText(levels)), true);
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe("VALIDATION_FAILED");
      expect(r.paths[0]).toMatch(/^config(\.a)+$/);
      expect(r.body.error.issues![0]!.message).toContain("deeper than 8 levels");
    }
    expect(await countRows()).toBe(before);
  });

  it("bodies nested 100,000 levels anywhere (as raw JSON) are 4xx, never a 500", async () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const asBody = await refused(deep, true);
    expect(asBody.status).toBe(422);
    const inOwner = await refused(JSON.stringify(intent("github", { org: "acme" })).replace(/"owner":\{[^}]*\}/, `"owner":${deep}`), true);
    expect(inOwner.status).toBe(422);
    expect(inOwner.paths[0]).toMatch(/^owner/);
    const inConfig = await refused(JSON.stringify(intent("github", { org: "acme" })).replace(/"config":\{[^}]*\}/, `"config":{"org":${deep}}`), true);
    expect(inConfig.status).toBe(422);
    expect(inConfig.paths[0]).toMatch(/^config\.org/);
  });

  it("the intent schema alone (for callers other than the API) refuses a 5,000-level config without overflowing", () => {
    const r = ConnectionIntentSchema.safeParse(JSON.parse(withConfigText(intent("myspace"), deepText(5_000))));
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.some((i) => i.path[0] === "config")).toBe(true);
  });

  it("config may nest 8 levels (config itself is the first), not 9", () => {
    expect(parseConnectionIntent(intent("myspace", nest(8)))).toMatchObject({ ok: true });
    const nine = parseConnectionIntent(intent("myspace", nest(9)));
    expect(nine.ok).toBe(false);
    if (!nine.ok) expect(nine.issues[0]).toEqual({ path: "config.a.a.a.a.a.a.a.a", message: "nests deeper than 8 levels" });
  });

  it("batch: each invalid item is refused on its own with paths; a batch of only invalid items is 422; nothing invalid is written", async () => {
    const before = await countRows();
    const bad = [intent("github", "__DEEP__"), intent("jira", { site: "evil.example" }), intent("zendesk", {})];
    const batchText = (items: unknown[]) => JSON.stringify({ intents: items }).replace('"__DEEP__"', deepText(5_000));
    const all = await batch.POST(post("/api/connections/onboard/batch", batchText(bad), true));
    expect(all.status).toBe(422);
    const paths = (await all.json()).error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["intents.1.config.site", "intents.2.config.subdomain"]));
    expect(paths.some((p: string) => /^intents\.0\.config(\.a)+$/.test(p))).toBe(true);
    expect(await countRows()).toBe(before);

    // one admissible item (a type outside the catalog: stored UNSUPPORTED, never run) next to the invalid ones
    const mixed = await batch.POST(post("/api/connections/onboard/batch", batchText([...bad, intent("myspace", { note: "fine" })]), true));
    expect(mixed.status).toBe(202);
    const out = await mixed.json();
    expect(out).toMatchObject({ accepted: 1, rejected: 3 });
    expect(out.items[0].error.code).toBe("VALIDATION_FAILED");
    expect(out.items[1].error.issues.map((i: { path: string }) => i.path)).toContain("config.site");
    expect(out.items[3].status).toBe("UNSUPPORTED");
    expect(await countRows()).toBe(before + 1);
  });
});
