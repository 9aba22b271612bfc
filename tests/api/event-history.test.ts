/**
 * Issue 11 item 6: a connection's event history is paginated (the REST view returns the latest
 * events, the total and a cursor to older pages, each answer valid against the OpenAPI
 * document), and re-posting an intent that is already decided adds no event.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listEvents } from "../../server/onboarding/connection-repository";
import { type ApiHarness, sampleIntent, startApiHarness } from "../helpers/api-harness";

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness({ ratePerMinute: 100_000 });
});
afterAll(async () => h?.close());

const ONBOARD = "/api/connections/onboard";
const BATCH = "/api/connections/onboard/batch";
const CONN = "/api/connections/{id}";
const params = (id: string) => ({ params: Promise.resolve({ id }) });

describe("re-posts of a decided intent", () => {
  it("add no event each: 50 re-posts of an UNSUPPORTED and of a NOT_SANCTIONED intent leave one event each", async () => {
    const unsupported = sampleIntent({ source_type: "fax_machine", resource_ids: ["FAX1"] });
    const unsanctioned = sampleIntent({ resource_ids: ["UNSANCTIONED1"], evidence: { ...sampleIntent().evidence, status: "Unknown" } });
    let ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const a = await h.call("post", ONBOARD, h.routes.onboard.POST(h.post(ONBOARD, unsupported)));
      const b = await h.call("post", ONBOARD, h.routes.onboard.POST(h.post(ONBOARD, unsanctioned)));
      expect(a.status).toBe(409);
      expect(b.body.status).toBe("NOT_SANCTIONED");
      ids = [a.body.error.connection_id, b.body.connection_id];
    }
    // and through the batch endpoint, 20 copies in one post and again
    for (let i = 0; i < 2; i++) {
      const r = await h.call("post", BATCH, h.routes.batch.POST(h.post(BATCH, { intents: Array.from({ length: 20 }, () => unsupported) })));
      expect(r.status).toBe(202);
    }
    for (const id of ids) {
      const events = await listEvents(h.db, id);
      expect(events.map((e) => `${e.stage}:${e.status}`)).toEqual([expect.stringMatching(/^(allowlist:UNSUPPORTED|sanction_check:NOT_SANCTIONED)$/)]);
      const view = await h.call("get", CONN, h.routes.connection.GET(h.get(`/api/connections/${id}`), params(id)));
      expect(view.body).toMatchObject({ events_total: 1, events_next_cursor: null });
    }
  });

  it("a changed decision still gets its event, once", async () => {
    const base = sampleIntent({ resource_ids: ["UNSANCTIONED2"] });
    const post = (status: string) => h.call("post", ONBOARD, h.routes.onboard.POST(h.post(ONBOARD, { ...base, evidence: { ...base.evidence, status } })));
    const id = (await post("Unknown")).body.connection_id as string;
    await post("Unknown");
    await post("Rejected");
    await post("Rejected");
    const events = await listEvents(h.db, id);
    expect(events.map((e) => [e.status, e.message])).toEqual([
      ["NOT_SANCTIONED", 'Evidence status is "Unknown", not "Sanctioned"'],
      ["NOT_SANCTIONED", 'Evidence status is "Rejected", not "Sanctioned"'],
    ]);
  });
});

describe("the event history is paginated", () => {
  it("returns the latest page, the total and a cursor; following the cursors reads every event once, oldest first", async () => {
    const made = await h.call("post", ONBOARD, h.routes.onboard.POST(h.post(ONBOARD, sampleIntent({ source_type: "fax_machine", resource_ids: ["T0PAGED"] }))));
    const id = made.body.error.connection_id as string;
    const t0 = Date.now() - 3_600_000;
    // 250 events, some sharing a timestamp (the cursor breaks ties by id)
    await h.db.connectionEvent.createMany({
      data: Array.from({ length: 250 }, (_, i) => ({ connectionId: id, attempt: i, stage: "probe", outcome: "ok", message: `e${i}`, durationMs: 0, at: new Date(t0 + Math.floor(i / 3) * 1000) })),
    });
    const total = await h.db.connectionEvent.count({ where: { connectionId: id } });
    expect(total).toBeGreaterThanOrEqual(250);

    const first = await h.call("get", CONN, h.routes.connection.GET(h.get(`/api/connections/${id}`), params(id)));
    expect(first.status).toBe(200);
    expect(first.body.events).toHaveLength(50); // the default page
    expect(first.body.events_total).toBe(total);
    expect(first.body.events_next_cursor).toEqual(expect.any(String));

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/connections/${id}?events_limit=60${cursor ? `&events_before=${encodeURIComponent(cursor)}` : ""}`;
      const page = await h.call("get", CONN, h.routes.connection.GET(h.get(url), params(id)));
      expect(page.status).toBe(200);
      expect(page.body.events.length).toBeLessThanOrEqual(60);
      const ats = page.body.events.map((e: { at: string }) => e.at);
      expect([...ats].sort()).toEqual(ats); // oldest first within a page
      seen.unshift(...page.body.events.map((e: { stage: string; message: string | null; attempt: number }) => `${e.stage}:${e.message}:${e.attempt}`));
      cursor = page.body.events_next_cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(cursor).toBeNull();
    expect(pages).toBe(Math.ceil(total / 60));
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    const probes = seen.filter((s) => s.startsWith("probe:"));
    expect(probes).toEqual(Array.from({ length: 250 }, (_, i) => `probe:e${i}:${i}`));
  });
});
