/**
 * Unauthenticated abuse of tRPC: batch and size caps answered in words before any procedure
 * runs; the public health procedure shares one database check a second; unexpected errors
 * reach the client as a generic sentence, never Prisma text.
 */
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { Db } from "../../server/db/client";
import { publicProcedure, router } from "../../server/trpc/init";
import { MAX_BATCH, limitTrpcRequest } from "../../server/trpc/request-limits";
import { HEALTH_CACHE_MS, cachedHealth } from "../../server/trpc/routers/system";

const base = "http://127.0.0.1:3000/api/trpc";

describe("tRPC request limits", () => {
  it("refuses a batch of more than 10 procedures, in words", async () => {
    const paths = Array.from({ length: 11 }, () => "system.health").join(",");
    const r = await limitTrpcRequest(new Request(`${base}/${paths}?batch=1&input=%7B%7D`));
    expect(r).toBeInstanceOf(Response);
    const res = r as Response;
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "BATCH_TOO_LARGE", message: `A batch may hold at most ${MAX_BATCH} procedures; this one has 11.` } });
    const ten = Array.from({ length: 10 }, () => "system.health").join(",");
    expect(await limitTrpcRequest(new Request(`${base}/${ten}?batch=1`))).toBeInstanceOf(Request);
  });

  it("refuses the 15 KB GET that used to run 1,000 health queries", async () => {
    const paths = Array.from({ length: 1000 }, () => "system.health").join(",");
    const res = (await limitTrpcRequest(new Request(`${base}/${paths}?batch=1`))) as Response;
    expect(res.status).toBe(414);
    expect((await res.json()).error.message).toMatch(/^The request URL is longer than 8 KB/);
  });

  it("refuses a body over 100 KB, declared or streamed", async () => {
    const big = JSON.stringify({ 0: { json: "x".repeat(120 * 1024) } });
    const declared = (await limitTrpcRequest(new Request(`${base}/settings.update`, { method: "POST", body: big, headers: { "content-type": "application/json", "content-length": String(big.length) } }))) as Response;
    expect(declared.status).toBe(413);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 30; i++) c.enqueue(new TextEncoder().encode("x".repeat(8 * 1024)));
        c.close();
      },
    });
    const streamed = (await limitTrpcRequest(new Request(`${base}/settings.update`, { method: "POST", body: stream, duplex: "half" } as RequestInit))) as Response;
    expect(streamed.status).toBe(413);
    const small = await limitTrpcRequest(new Request(`${base}/settings.update`, { method: "POST", body: '{"0":{"json":1}}' }));
    expect(small).toBeInstanceOf(Request);
    expect(await (small as Request).text()).toBe('{"0":{"json":1}}');
  });
});

describe("public procedures", () => {
  it("health costs at most one database query a second, however many callers", async () => {
    const queryRaw = vi.fn(async () => [{ n: 8n }]);
    const db = { $queryRaw: queryRaw } as unknown as Db;
    const t0 = Date.now() + 10 * HEALTH_CACHE_MS; // past any cached value from another test
    const all = await Promise.all(Array.from({ length: 1000 }, (_, i) => cachedHealth(db, t0 + (i % 500))));
    expect(all.every((h) => h.status === "ok")).toBe(true);
    expect(queryRaw).toHaveBeenCalledTimes(1);
    await cachedHealth(db, t0 + HEALTH_CACHE_MS);
    expect(queryRaw).toHaveBeenCalledTimes(2);
  });
});

describe("error formatter", () => {
  it("answers an input that fails its schema with the schema's sentences and their fields, never zod's JSON", async () => {
    const { appRouter } = await import("../../server/trpc/router");
    const session = { user: { id: "u", email: "admin@example.com", role: "admin" as const, tenantId: "00000000-0000-4000-8000-000000000001" }, expires: new Date(Date.now() + 600_000).toISOString() };
    const post = (path: string, json: unknown) =>
      fetchRequestHandler({
        endpoint: "/api/trpc",
        req: new Request(`${base}/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ json }) }),
        router: appRouter,
        createContext: () => ({ session, db: {} as Db }),
      });
    const one = await post("apiKeys.create", { name: "   " });
    expect(one.status).toBe(400);
    const body = (await one.json()) as { error: { json: { message: string; data: { issues: { path: string; message: string }[] } } } };
    expect(body.error.json.message).toBe("Give the key a name, e.g. “AOD production”.");
    expect(body.error.json.data.issues).toEqual([{ path: "name", message: "Give the key a name, e.g. “AOD production”." }]);

    // a use-case's own refusal of fields (not the schema's): its sentence, and each field for the form to mark
    const dest = await post("settings.addDestination", { kind: "host", pattern: "https://db.corp.example/x", ports: "70000", sourceTypes: [], note: "" });
    expect(dest.status).toBe(400);
    const refused = (await dest.json()) as { error: { json: { message: string; data: { issues: { path: string; message: string }[] } } } };
    expect(refused.error.json.message).toContain("Destination: “https://db.corp.example/x” is a URL");
    expect(refused.error.json.data.issues.map((i) => i.path)).toEqual(["pattern", "ports"]);
    expect(refused.error.json.data.issues[1]!.message).toBe("“70000” is not a port: use whole numbers from 1 to 65535, separated by commas.");

    // the other admin forms' refusals name their field too: an OAuth app's token URL, an invite's e-mail
    type Refused = { error: { json: { message: string; data: { issues?: { path: string; message: string }[] } } } };
    const app = await post("settings.addOAuthApp", { provider: "zendesk", instanceHost: "acme.zendesk.com", clientId: "cid", clientSecret: "s3cret", tokenUrl: "https://evil.example/oauth/tokens" });
    expect(app.status).toBe(400);
    const appBody = (await app.json()) as Refused;
    expect(appBody.error.json.data.issues).toEqual([{ path: "tokenUrl", message: appBody.error.json.message }]);
    expect(appBody.error.json.message).toContain("The token URL must be on the instance host acme.zendesk.com");
    const missing = (await (await post("settings.addOAuthApp", { provider: "zendesk", instanceHost: "", clientId: "cid", clientSecret: "s3cret" })).json()) as Refused;
    expect(missing.error.json.data.issues?.map((i) => i.path)).toEqual(["instanceHost"]);
    const invite = await post("users.invite", { email: "not-an-email", role: "exec" });
    expect(invite.status).toBe(400);
    expect(((await invite.json()) as Refused).error.json.data.issues).toEqual([{ path: "email", message: "Enter the email address of the person to invite." }]);

    const local = router({ two: publicProcedure.input(z.object({ ports: z.string().min(1, "give at least one port"), note: z.string().max(3, "keep it short") })).mutation(() => "ok") });
    const res = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request(`${base}/two`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ json: { ports: "", note: "long note" } }) }),
      router: local,
      createContext: () => ({ session: null, db: {} as Db }),
    });
    const text = await res.text();
    expect(text).not.toMatch(/too_small|too_big|"origin"|"code":"invalid/);
    expect((JSON.parse(text) as { error: { json: { message: string } } }).error.json.message).toBe("Ports: give at least one port; Note: keep it short");
  });

  it("never returns an unexpected error's text (Prisma, hosts, tables)", async () => {
    const leaky = router({
      boom: publicProcedure.query(() => {
        throw new Error('Invalid `prisma.connection.findMany()` invocation: Can\'t reach database server at `db.internal:5432` (table "connections")');
      }),
    });
    const res = await fetchRequestHandler({ endpoint: "/api/trpc", req: new Request(`${base}/boom`), router: leaky, createContext: () => ({ session: null, db: {} as Db }) });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/prisma|db\.internal|connections|5432|stack/i);
    expect(JSON.parse(text).error.json.message).toMatch(/^Something went wrong on the server \(reference [0-9a-f]{8}\); try again/);
  });
});
