/**
 * The OpenAPI driver's attempt session (openAttempt, issue 13 item 2): the document is fetched
 * and planned once per attempt, not once per stage; the health, discovery and sample requests
 * are the standalone calls' own, and so are the schema and records. Counted at the HTTP sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSafeHttp } from "../safe-mode/http";
import { makePolicy } from "../safe-mode/policy";
import { LOOPBACK_APPROVED } from "../safe-mode/test-destinations";
import { type HttpSandbox, startHttpSandbox } from "../sandbox/http-sandbox";
import type { ConnectorContext } from "../types";
import { createOpenApiDriver } from "./openapi";

let sb: HttpSandbox;
let n = 0;
const driver = createOpenApiDriver(createSafeHttp({ retries: 0 }));

function ctx(resourceIds: string[] = [], maxRecords = 20): ConnectorContext {
  return {
    connectionId: `oa-attempt-${++n}`,
    sourceType: "openapi",
    resourceIds,
    config: { spec_url: `${sb.urlFor("openapi")}/openapi.json` },
    secret: { token: sb.token },
    policy: { ...makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 2_000 }), maxRecords },
    destinations: LOOPBACK_APPROVED,
  };
}

beforeAll(async () => {
  sb = await startHttpSandbox();
});
afterAll(async () => {
  await sb.close();
});

const paths = () => sb.requests.map((r) => r.path);

describe("OpenAPI attempt session", () => {
  it.each([[[]], [["listItems"]]])("fetches the document once and otherwise sends the standalone requests (named %j)", async (named) => {
    sb.resetLog();
    const opened = await driver.openAttempt!(ctx(named));
    if (!opened.ok) throw new Error(opened.error.message);
    const a = opened.value;
    const health = await a.healthCheck();
    const schema = await a.discover();
    const sample = schema.ok ? await a.sample(schema.value) : undefined;
    await a.close();
    const attempt = paths();

    sb.resetLog();
    const c = ctx(named);
    const sHealth = await driver.healthCheck(c);
    const sSchema = await driver.discover(c);
    const sSample = sSchema.ok ? await driver.sample(c, sSchema.value) : undefined;
    const standalone = paths();

    expect(health).toMatchObject({ ok: true });
    expect(sHealth).toMatchObject({ ok: true });
    expect(schema).toEqual(sSchema);
    expect(sample).toEqual(sSample);
    expect(sample?.ok && sample.value.length).toBe(20);
    expect(attempt.filter((p) => p.endsWith("/openapi.json"))).toHaveLength(1);
    expect(standalone.filter((p) => p.endsWith("/openapi.json"))).toHaveLength(3);
    // the same data requests, in the same order
    expect(attempt.filter((p) => !p.endsWith("/openapi.json"))).toEqual(standalone.filter((p) => !p.endsWith("/openapi.json")));
  });

  it("a sample with no streams uses what the attempt discovered; a closed session sends nothing", async () => {
    const opened = await driver.openAttempt!(ctx());
    if (!opened.ok) throw new Error(opened.error.message);
    const d = await opened.value.discover();
    expect(d.ok).toBe(true);
    const s = await opened.value.sample({ streams: [] });
    expect(s.ok && s.value.length).toBe(20);
    await opened.value.close();
    sb.resetLog();
    expect(await opened.value.healthCheck()).toMatchObject({ ok: false });
    expect(await opened.value.sample({ streams: [] })).toMatchObject({ ok: false });
    expect(sb.count()).toBe(0);
  });

  it("opening fails as the standalone health check does", async () => {
    const c = { ...ctx(), config: { spec: "just: yaml" } };
    expect(await driver.openAttempt!(c)).toEqual(await driver.healthCheck(c));
  });
});
