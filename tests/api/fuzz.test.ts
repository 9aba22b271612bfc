/**
 * A schema-driven fuzz of AOD's write endpoints (issue 14): intents are generated from the
 * ConnectionIntent schema of the app's own /api/openapi.json, then mutated (wrong types, missing
 * and extra fields, boundary sizes, unicode, deep nesting, huge numbers, duplicate keys, broken
 * JSON). Every answer must be a status the document declares with a body that validates (the
 * contract validator), never a 5xx, and an answer that refuses the body must leave the registry
 * unchanged. Seeded with fast-check: a failure prints the seed and path to replay it
 * (FUZZ_SEED=<seed> in the environment of `npm test`).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST } from "../../server/connectors/allowlist";
import { type ApiHarness, startApiHarness } from "../helpers/api-harness";
import { testEnv } from "../helpers/env";

type Schema = Record<string, unknown>;

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness({ ratePerMinute: 1_000_000 });
});
afterAll(async () => h?.close());

const SEED = Number(testEnv.FUZZ_SEED ?? 20261201);
const RUNS = Number(testEnv.FUZZ_RUNS ?? 1600);
const BATCH_RUNS = Math.ceil(RUNS / 4);

// ---------------------------------------------------------------- arbitraries from the document's schema

const UNICODE = fc.string({ unit: "grapheme", maxLength: 24 });

/** Values for the few patterned strings, so generated intents are valid, not just well-typed. */
function patterned(name: string, s: Schema): fc.Arbitrary<string> | undefined {
  if (name === "source_type") return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ALLOWLIST) }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9_]{1,20}$/) });
  if (name === "namespace") return fc.oneof(fc.constant("autonomy"), fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/).filter((n) => n !== "demo"));
  if (s.format === "date-time") return fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true }).map((d) => d.toISOString());
  return undefined;
}

function fromSchema(s: Schema, name: string, resolve: (ref: string) => Schema): fc.Arbitrary<unknown> {
  if (typeof s.$ref === "string") return fromSchema(resolve(s.$ref), name, resolve);
  if ("const" in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  switch (s.type) {
    case "string": {
      const special = patterned(name, s);
      if (special) return special;
      const min = Number(s.minLength ?? 0);
      const max = Math.min(Number(s.maxLength ?? 64), min + 40);
      return fc.string({ unit: "grapheme-composite", minLength: Math.max(min, 1), maxLength: Math.max(max, 1) }).filter((v) => v.length >= min && v.length <= Number(s.maxLength ?? 1e9));
    }
    case "number":
      return fc.double({ min: Number(s.minimum ?? -1e6), max: Number(s.maximum ?? 1e6), noNaN: true, noDefaultInfinity: true });
    case "integer":
      return fc.integer({ min: Number(s.minimum ?? -1e6), max: Number(s.maximum ?? 1e6) });
    case "boolean":
      return fc.boolean();
    case "array": {
      const items = fromSchema(s.items as Schema, name, resolve);
      const min = Number(s.minItems ?? 0);
      return fc.array(items, { minLength: min, maxLength: Math.min(Number(s.maxItems ?? 5), min + 4) });
    }
    case "object": {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const required = new Set((s.required as string[] | undefined) ?? []);
      // config is validated per source type by the catalog: valid intents leave it out; mutations add it
      const keys = Object.keys(props).filter((k) => k !== "config");
      const shape = Object.fromEntries(keys.map((k) => [k, fromSchema(props[k]!, k, resolve)]));
      return fc.record(shape, { requiredKeys: keys.filter((k) => required.has(k)) });
    }
    default:
      return fc.constant(null);
  }
}

// ---------------------------------------------------------------- mutations

/** A body whose config nests `levels` objects deep, built as text (JSON.stringify itself would overflow the stack). */
const deepBody = (intent: Record<string, unknown>, levels: number) =>
  JSON.stringify({ ...intent, config: { root: "@@DEEP@@" } }).replace('"@@DEEP@@"', `${'{"n":'.repeat(levels)}"leaf"${"}".repeat(levels)}`);

type Case = { body: string; note: string };

function mutations(valid: fc.Arbitrary<Record<string, unknown>>, required: string[], props: string[]): fc.Arbitrary<Case> {
  const asCase = (note: string) => (v: unknown) => ({ body: JSON.stringify(v), note });
  const weird = fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.boolean(), UNICODE, fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 2 }), fc.constant(1e308), fc.constant(-0));
  return fc.oneof(
    valid.map(asCase("valid")),
    fc.tuple(valid, fc.constantFrom(...props), weird).map(([v, k, w]) => asCase(`wrong type for ${k}`)({ ...v, [k]: w })),
    fc.tuple(valid, fc.constantFrom(...required)).map(([v, k]) => {
      const { [k]: _dropped, ...rest } = v;
      return asCase(`missing ${k}`)(rest);
    }),
    fc.tuple(valid, fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !props.includes(k)), weird).map(([v, k, w]) => asCase("extra field")({ ...v, [k]: w })),
    fc.tuple(valid, fc.constantFrom(63, 64, 65, 128, 129, 512, 513, 2048, 2049)).map(([v, n]) => asCase(`boundary ${n}`)({ ...v, source_type: "a".repeat(n), intent_id: "i".repeat(n) })),
    fc.tuple(valid, fc.integer({ min: 99, max: 102 })).map(([v, n]) => asCase(`resource_ids ×${n}`)({ ...v, resource_ids: Array.from({ length: n }, (_, i) => `r${i}`) })),
    fc.tuple(valid, fc.string({ unit: "binary", minLength: 1, maxLength: 16 })).map(([v, s]) => asCase("unicode/controls")({ ...v, resource_ids: [s], owner: { ...(v.owner as object), why: s } })),
    fc.tuple(valid, fc.constantFrom(2, 8, 9, 30, 500, 2_000, 5_000)).map(([v, n]) => ({ body: deepBody(v, n), note: `config depth ${n}` })),
    fc.tuple(valid, fc.constantFrom("1e400", "-1e400", "123456789012345678901234567890", "1.0e-400")).map(([v, num]) => ({ body: JSON.stringify({ ...v, owner: { ...(v.owner as object), confidence: 0.5 } }).replace('"confidence":0.5', `"confidence":${num}`), note: `huge number ${num}` })),
    valid.map((v) => ({ body: JSON.stringify(v).replace(/^\{/, `{"risk_level":"high","risk_level":${JSON.stringify(v.risk_level)},`), note: "duplicate keys" })),
    fc.tuple(valid, fc.nat()).map(([v, cut]) => {
      const t = JSON.stringify(v);
      return { body: t.slice(0, cut % t.length), note: "truncated JSON" };
    }),
    fc.tuple(valid, fc.constantFrom({ password: "hunter2" }, { nested: { api_key: "k" } }, { base_url: "https://user:pw@example.com" }, { x: "y".repeat(3000) })).map(([v, c]) => asCase("config with secrets/oversize")({ ...v, config: c })),
  );
}

// ---------------------------------------------------------------- the runs

describe("schema-driven fuzz of the write endpoints", () => {
  it(`POST /api/connections/onboard and /batch: ${RUNS} + ${BATCH_RUNS} seeded cases, every answer declared and valid, nothing written for a refused body`, { timeout: 120_000 }, async () => {
    const doc = h.contract.doc;
    const resolve = (ref: string) => (doc.components.schemas as Record<string, Schema>)[ref.replace("#/components/schemas/", "")]!;
    const intentSchema = resolve("#/components/schemas/ConnectionIntent");
    const valid = fromSchema(intentSchema, "intent", resolve) as fc.Arbitrary<Record<string, unknown>>;
    const cases = mutations(valid, intentSchema.required as string[], Object.keys(intentSchema.properties as object));
    const statuses = new Map<string, number>();
    const note = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);
    const t0 = performance.now();

    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const before = await h.countRows();
        const res = await h.routes.onboard.POST(h.post("/api/connections/onboard?async=1", c.body, {}, true));
        const { status } = await h.contract.check("post", "/api/connections/onboard", res);
        note(`onboard ${status}`);
        expect(status).toBeLessThan(500);
        if (status >= 400 && status !== 409) expect(await h.countRows()).toBe(before);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );

    await fc.assert(
      fc.asyncProperty(fc.array(cases, { minLength: 1, maxLength: 6 }), async (items) => {
        const before = await h.countRows();
        const body = `{"intents":[${items.map((i) => i.body).join(",")}]}`;
        const res = await h.routes.batch.POST(h.post("/api/connections/onboard/batch", body, {}, true));
        const { status } = await h.contract.check("post", "/api/connections/onboard/batch", res);
        note(`batch ${status}`);
        expect(status).toBeLessThan(500);
        if (status >= 400) expect(await h.countRows()).toBe(before);
      }),
      { seed: SEED + 1, numRuns: BATCH_RUNS, endOnFailure: true },
    );

    const ms = performance.now() - t0;
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    const line = [...statuses.entries()].sort().map(([k, n]) => `${k}: ${n}`).join(", ");
    console.log(`[fuzz] seed ${SEED}: ${total} cases in ${(ms / 1000).toFixed(1)} s (${Math.round(total / (ms / 1000))}/s); statuses — ${line}`);
    expect(total).toBe(RUNS + BATCH_RUNS);
  });
});
