/**
 * Integration: one onboarding attempt over ONE S3 client (s3Adapter.openAttempt) against s3rver,
 * reached through a counting TCP proxy that records every HTTP request line the store received
 * and the TCP connections it got (and those still open). The attempt makes the floor's requests
 * (HeadBucket, one listing, one ranged GET per object) over one keep-alive socket; the sample
 * reads nothing again. The client is destroyed on success, on failure and at once on abort.
 * Then the pipeline with the real driver: a named missing bucket is still not ACTIVE.
 */
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ctxFor } from "../../../tests/connectors/native/ctx";
import { createTestTenant, testDb } from "../../../tests/helpers/db";
import type { Db } from "../../db/client";
import { ok } from "../../lib/result";
import { unmetNamedResources } from "../../onboarding/named-resources";
import { onboardConnection } from "../../onboarding/pipeline";
import { ConnectionIntentSchema } from "../../onboarding/schemas";
import { startS3Sandbox, type S3Sandbox } from "../sandbox/s3-sandbox";
import { makePolicy } from "../safe-mode/policy";
import { LOOPBACK_APPROVED } from "../safe-mode/test-destinations";
import type { AttemptSource, ConnectorContext, ConnectorFailure, ConnectorResult } from "../types";
import { s3Adapter } from "./s3";

type Req = { method: string; target: string };
type CountingProxy = {
  port: number;
  requests: Req[];
  connections: () => number;
  open: () => number;
  /** requests whose line matches are held (never forwarded) */
  hold: (re: RegExp | undefined) => void;
  close: () => Promise<void>;
};

/** A TCP proxy to `upstreamPort` that parses the HTTP request lines of the client's stream (GET/HEAD carry no body). */
async function startCountingProxy(upstreamPort: number): Promise<CountingProxy> {
  const requests: Req[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let held: RegExp | undefined;
  const server = net.createServer((client) => {
    connections++;
    sockets.add(client);
    const upstream = net.connect(upstreamPort, "127.0.0.1");
    sockets.add(upstream);
    let text = "";
    let stalled = false;
    client.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      const re = /(GET|HEAD|PUT|POST|DELETE|PATCH|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/g;
      let last = 0;
      for (let m = re.exec(text); m; m = re.exec(text)) {
        requests.push({ method: m[1]!, target: m[2]! });
        if (held?.test(m[2]!)) stalled = true;
        last = re.lastIndex;
      }
      text = text.slice(last);
      if (!stalled) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", () => {
      sockets.delete(client);
      end();
    });
    upstream.on("close", () => {
      sockets.delete(upstream);
      end();
    });
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    connections: () => connections,
    open: () => [...sockets].filter((s) => s.remotePort !== upstreamPort).length,
    hold: (re) => {
      held = re;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

let dir: string;
let sb: S3Sandbox;
let proxy: CountingProxy;
const failureOf = (r: { ok: boolean; error?: ConnectorFailure }) => (r.ok ? undefined : r.error);
const opened = (r: ConnectorResult<AttemptSource>): AttemptSource => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const closedAll = () => vi.waitFor(() => expect(proxy.open()).toBe(0));
const ctxOf = (over: { resourceIds?: string[]; secret?: Record<string, string>; policy?: Partial<ConnectorContext["policy"]>; signal?: AbortSignal } = {}): ConnectorContext => ({
  ...ctxFor("s3_compat", {
    config: { endpoint: `http://127.0.0.1:${proxy.port}`, region: "us-east-1" },
    secret: over.secret ?? { access_key_id: sb.accessKeyId, secret_access_key: sb.secretAccessKey },
    resourceIds: over.resourceIds ?? [sb.bucket],
    policy: over.policy,
  }),
  signal: over.signal,
});
const since = (mark: number) => proxy.requests.slice(mark).map((r) => `${r.method} ${r.target.replace(/\?x-id=GetObject$/, "")}`);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "aam-s3-attempt-"));
  sb = await startS3Sandbox({ dir, port: 0 });
  proxy = await startCountingProxy(Number(new URL(sb.endpoint).port));
});

afterAll(async () => {
  await proxy?.close();
  await sb?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe("s3: one client per attempt", () => {
  it("health, discovery and sample over one socket: HeadBucket, one listing, one GET per object; the sample reads nothing again", async () => {
    const ctx = ctxOf({ policy: { maxRecords: 20 } });
    const before = proxy.connections();
    const mark = proxy.requests.length;
    const s = opened(await s3Adapter.openAttempt!(ctx));
    expect(proxy.requests.length - mark).toBe(0); // opening is the egress check and a client: no request yet
    const h = await s.healthCheck();
    expect(h.ok && h.value.detail).toBe("1 bucket target(s) listable");
    expect(since(mark)).toEqual([`HEAD /${sb.bucket}/`, `GET /${sb.bucket}/?list-type=2&max-keys=1000`]);

    const d = await s.discover();
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.resources).toEqual([{ id: sb.bucket, kind: "bucket", found: true }]);
    expect(d.value.streams.map((x) => x.name)).toEqual([
      "aam-sandbox/",
      "aam-sandbox/customers.csv",
      "aam-sandbox/events.ndjson",
      "aam-sandbox/inventory/products.json#products",
      "aam-sandbox/inventory/products.json#warehouses",
      "aam-sandbox/orders.json",
    ]);
    // the health check's HeadBucket and listing serve discovery: only the objects' heads are read
    const objects = ["customers.csv", "events.ndjson", "inventory/products.json", "orders.json"];
    expect(since(mark).slice(2)).toEqual(objects.map((k) => `GET /${sb.bucket}/${k}`));

    const afterDiscovery = proxy.requests.length;
    const r = await s.sample({ streams: [] }); // no streams handed over: what discovery found
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value).toHaveLength(20);
    const again = await s.sample(d.value); // the schema handed back: the same, still nothing read
    expect(again).toEqual(r);
    expect(proxy.requests.length - afterDiscovery).toBe(0); // no HeadObject, no second GET, no second listing

    // the same records as the stage-by-stage calls (each its own client)
    const standalone = await s3Adapter.sample(ctxOf({ policy: { maxRecords: 20 } }), d.value);
    expect(standalone).toEqual(r);

    // Safe Mode: only GET and HEAD reached the store
    expect(proxy.requests.slice(mark, afterDiscovery).every((x) => x.method === "GET" || x.method === "HEAD")).toBe(true);
    await s.close();
    await s.close(); // idempotent
    await closedAll();
    // one attempt socket, plus the standalone sample's own (kept alive for its operation, then destroyed)
    expect(proxy.connections() - before).toBe(2);
    expect(failureOf(await s.healthCheck())?.kind).toBe("network"); // a closed session makes no request
  });

  it("the stage-by-stage sample with a handed schema still HEADs and reads, within its one operation", async () => {
    const mark = proxy.requests.length;
    const r = await s3Adapter.sample(ctxOf({ resourceIds: [`${sb.bucket}/orders.json`] }), { streams: [{ name: `${sb.bucket}/orders.json`, fields: [] }] });
    expect(r.ok && r.value.length).toBeGreaterThan(0);
    expect(since(mark)).toEqual([`HEAD /${sb.bucket}/orders.json`, `GET /${sb.bucket}/orders.json`]);
    await closedAll();
  });

  it("a named missing bucket: HeadBucket once, discovery reports it absent, the pipeline's check is not ACTIVE", async () => {
    const ctx = ctxOf({ resourceIds: [sb.bucket, "no-such-bucket-aam"] });
    const mark = proxy.requests.length;
    const s = opened(await s3Adapter.openAttempt!(ctx));
    try {
      expect((await s.healthCheck()).ok).toBe(true);
      const d = await s.discover();
      if (!d.ok) throw new Error(d.error.message);
      expect(d.value.resources).toEqual([
        { id: sb.bucket, kind: "bucket", found: true },
        { id: "no-such-bucket-aam", kind: "bucket", found: false, reason: "absent", detail: "the object store has no such bucket" },
      ]);
      expect(d.value.streams.some((x) => x.name.startsWith("no-such-bucket-aam"))).toBe(false);
      expect(unmetNamedResources(ctx.resourceIds, d.value)).toMatchObject({ status: "HEALING", reason: expect.stringContaining('bucket "no-such-bucket-aam"') });
      expect(since(mark).filter((x) => x.startsWith("HEAD "))).toEqual([`HEAD /${sb.bucket}/`, "HEAD /no-such-bucket-aam/"]);
    } finally {
      await s.close();
    }
    await closedAll();
  });

  it("closes on failure: refused credentials fail the health check and the socket is ended by close", async () => {
    const s = opened(await s3Adapter.openAttempt!(ctxOf({ secret: { access_key_id: "AKIA-NOT-A-KEY", secret_access_key: "wrong" } })));
    expect(failureOf(await s.healthCheck())?.kind).toBe("auth");
    await s.close();
    await closedAll();
    // no secret at all: the session is not opened, nothing is connected
    const before = proxy.connections();
    expect(failureOf(await s3Adapter.openAttempt!(ctxOf({ secret: {} })))?.kind).toBe("auth");
    expect(proxy.connections()).toBe(before);
  });

  it("an aborted signal destroys the client at once, whatever is in flight; aborted before opening, nothing connects", async () => {
    const abort = new AbortController();
    const s = opened(await s3Adapter.openAttempt!(ctxOf({ signal: abort.signal, policy: { requestTimeoutMs: 60_000 } })));
    expect((await s.healthCheck()).ok).toBe(true);
    proxy.hold(/orders\.json/); // the store never answers this object's GET
    try {
      const mark = proxy.requests.length;
      const pending = s.discover();
      await vi.waitFor(() => expect(since(mark)).toContain(`GET /${sb.bucket}/orders.json`));
      abort.abort();
      // not the 60 s request timeout: the socket went away
      expect(failureOf(await pending)).toMatchObject({ kind: "network" });
      await closedAll();
      expect(failureOf(await s.sample({ streams: [] }))?.kind).toBe("network");
      await s.close();
    } finally {
      proxy.hold(undefined);
    }

    const before = proxy.connections();
    const gone = new AbortController();
    gone.abort();
    expect(failureOf(await s3Adapter.openAttempt!(ctxOf({ signal: gone.signal })))?.kind).toBe("network");
    expect(proxy.connections()).toBe(before);
  });
});

describe("s3: the pipeline through the attempt session", () => {
  let db: Db;
  let tenantId: string;
  beforeAll(async () => {
    db = testDb();
    tenantId = await createTestTenant(db, "s3attempt");
  });
  afterAll(async () => db?.$disconnect());

  const intent = (resourceIds: string[]) =>
    ConnectionIntentSchema.parse({
      source_type: "s3_compat",
      resource_ids: resourceIds,
      scopes_mode: "safe_readonly",
      credential_locator: "env:AAM_SECRET_TEST_S3_ATTEMPT",
      namespace: "autonomy",
      risk_level: "low",
      evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
      owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
      config: { endpoint: `http://127.0.0.1:${proxy.port}`, region: "us-east-1" },
    });
  const run = (resourceIds: string[]) =>
    onboardConnection(
      {
        db,
        credentials: { resolve: async () => ok({ access_key_id: sb.accessKeyId, secret_access_key: sb.secretAccessKey }) },
        connectors: () => ({ adapter: s3Adapter }),
        policy: async () => makePolicy(),
        destinations: async () => LOOPBACK_APPROVED,
      },
      tenantId,
      intent(resourceIds),
    );

  it("ACTIVE over one connection with the floor's requests; a named missing bucket ends HEALING, naming it", async () => {
    const before = proxy.connections();
    const mark = proxy.requests.length;
    const r = await run([sb.bucket]);
    expect(r).toMatchObject({ status: "ACTIVE", first_sync_rows: 20 });
    expect(proxy.connections() - before).toBe(1);
    expect(proxy.requests.length - mark).toBe(2 + 4); // HeadBucket, ListObjectsV2, one GET per object
    await closedAll();

    const missing = await run([sb.bucket, "no-such-bucket-aam"]);
    expect(missing.status).toBe("HEALING");
    expect(missing.message).toContain('bucket "no-such-bucket-aam"');
    await closedAll();
  });
});

describe("s3: a body read to its declared end keeps its socket, and the cap still holds", () => {
  it("reads a body of exactly the cap to its end when Content-Length says so; a body past its declared length is cut and destroyed", async () => {
    const { Readable } = await import("node:stream");
    const { readBodyCapped } = await import("./s3");
    const exact = Readable.from([Buffer.alloc(600, 0x61), Buffer.alloc(400, 0x62)]);
    const ended = new Promise<boolean>((r) => exact.once("end", () => r(true)));
    const bytes = await readBodyCapped(exact, 1_000, 1_000);
    expect(bytes.byteLength).toBe(1_000);
    expect(await ended).toBe(true); // read to its end, not cut short (a cut short http body destroys the socket)

    let produced = 0;
    const liar = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 0x63));
      },
    });
    const cut = await readBodyCapped(liar, 100_000, 100_000);
    expect(cut.byteLength).toBe(100_000);
    expect(liar.destroyed).toBe(true);
    expect(produced).toBeLessThan(1024 * 1024);
  });
});
