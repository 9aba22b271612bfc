/** Integration: the s3 driver against s3rver (the S3 sandbox) with the seed files. */
import { NO_DESTINATIONS } from "../safe-mode/destinations";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, ctxFor } from "../../../tests/connectors/native/ctx";
import { startS3Sandbox, type S3Sandbox } from "../sandbox/s3-sandbox";
import type { ConnectorContext, ConnectorFailure } from "../types";
import net from "node:net";
import type { DestinationGrant } from "../safe-mode/destinations";
import { createSafeS3Client, mapS3Error, pinnedAgents, S3SafeModeError, s3Adapter } from "./s3";

let dir: string;
let sb: S3Sandbox;
const failureOf = (r: { ok: boolean; error?: ConnectorFailure }) => (r.ok ? undefined : r.error);

const ctxOf = (over: { config?: Record<string, unknown>; secret?: Record<string, string>; resourceIds?: string[]; policy?: Partial<ConnectorContext["policy"]>; destinations?: ConnectorContext["destinations"] } = {}) =>
  ctxFor("s3_compat", {
    config: { endpoint: sb.endpoint, region: "us-east-1", bucket: sb.bucket, ...over.config },
    secret: over.secret ?? { access_key_id: sb.accessKeyId, secret_access_key: sb.secretAccessKey },
    resourceIds: over.resourceIds,
    policy: over.policy,
    destinations: over.destinations,
  });

/** A plain client (not Safe Mode) to look at the bucket from outside the adapter. */
function observer(): S3Client {
  return new S3Client({
    region: "us-east-1",
    endpoint: sb.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: sb.accessKeyId, secretAccessKey: sb.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}
async function keys(): Promise<string[]> {
  const c = observer();
  try {
    return ((await c.send(new ListObjectsV2Command({ Bucket: sb.bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  } finally {
    c.destroy();
  }
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "aam-s3rver-"));
  sb = await startS3Sandbox({ dir, port: 0 });
});

afterAll(async () => {
  await sb?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe("s3 driver", () => {
  it("passes health, discover and sample against the sandbox bucket", async () => {
    const ctx = ctxOf({ policy: { maxRecords: 50 } });
    const h = await s3Adapter.healthCheck(ctx);
    expect(h.ok, JSON.stringify(h)).toBe(true);

    const d = await s3Adapter.discover(ctx);
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.streams.map((s) => s.name).sort()).toEqual([
      "aam-sandbox/",
      "aam-sandbox/customers.csv",
      "aam-sandbox/events.ndjson",
      "aam-sandbox/inventory/products.json#products",
      "aam-sandbox/inventory/products.json#warehouses",
      "aam-sandbox/orders.json",
    ]);
    expect(d.value.streams.find((s) => s.name === "aam-sandbox/")!.fields.map((f) => f.name)).toEqual(["key", "size", "last_modified", "etag", "content_type"]);
    expect(d.value.streams.find((s) => s.name === "aam-sandbox/orders.json")!.fields).toContainEqual({ name: "total", type: "number", nullable: false });
    expect(JSON.stringify(d.value)).not.toContain("@example.com");

    const s = await s3Adapter.sample(ctx, d.value);
    if (!s.ok) throw new Error(s.error.message);
    expect(s.value.length).toBe(20); // 50 asked, 20 is the ceiling
    expect(s.value.find((r) => r.stream === "aam-sandbox/customers.csv")!.data).toMatchObject({ id: "1", country: expect.any(String) });
  });

  it("lists buckets when no bucket is configured, and samples a bucket/prefix resource", async () => {
    const all = await s3Adapter.discover(ctxOf({ config: { bucket: undefined } }));
    expect(all.ok && all.value.streams.some((s) => s.name === "aam-sandbox/")).toBe(true);
    const s = await s3Adapter.sample(ctxOf({ config: { bucket: undefined }, resourceIds: ["aam-sandbox/inventory/"], policy: { maxRecords: 3 } }), { streams: [] });
    // Three streams under the prefix, one record each: two arrays of the JSON object, then the inventory.
    expect(s.ok && s.value.map((r) => r.stream)).toEqual(["aam-sandbox/inventory/products.json#products", "aam-sandbox/inventory/products.json#warehouses", "aam-sandbox/inventory/"]);
    expect(s.ok && s.value[2]!.data).toMatchObject({ key: "inventory/products.json", size: expect.any(Number) });
  });

  it("refuses PutObject, DeleteObject and unbounded GetObject on the adapter's client, and the bucket is unchanged", async () => {
    const before = await keys();
    const ctx = ctxOf();
    const c = createSafeS3Client(ctx, { endpoint: sb.endpoint, host: "127.0.0.1", port: Number(new URL(sb.endpoint).port), region: "us-east-1" });
    if (!c.ok) throw new Error(c.error.message);
    const client = c.value;
    try {
      await expect(client.send(new PutObjectCommand({ Bucket: sb.bucket, Key: "planted.csv", Body: "a\n1\n" }))).rejects.toBeInstanceOf(S3SafeModeError);
      await expect(client.send(new PutObjectCommand({ Bucket: sb.bucket, Key: "customers.csv", Body: "overwritten" }))).rejects.toThrow(/PutObject/);
      await expect(client.send(new DeleteObjectCommand({ Bucket: sb.bucket, Key: "customers.csv" }))).rejects.toThrow(/DeleteObject/);
      await expect(client.send(new DeleteObjectsCommand({ Bucket: sb.bucket, Delete: { Objects: [{ Key: "orders.json" }] } }))).rejects.toBeInstanceOf(S3SafeModeError);
      await expect(client.send(new GetObjectCommand({ Bucket: sb.bucket, Key: "customers.csv" }))).rejects.toThrow(/Range/);
      await expect(client.send(new GetObjectCommand({ Bucket: sb.bucket, Key: "customers.csv", Range: "bytes=0-" }))).rejects.toThrow(/Range/);
      // The same client still reads.
      const ok = await client.send(new GetObjectCommand({ Bucket: sb.bucket, Key: "customers.csv", Range: "bytes=0-1" }));
      expect(await ok.Body!.transformToString()).toBe("id");
    } finally {
      client.destroy();
    }
    expect(await keys()).toEqual(before);
    const o = observer();
    try {
      const body = await (await o.send(new GetObjectCommand({ Bucket: sb.bucket, Key: "customers.csv" }))).Body!.transformToString();
      expect(body).toBe(await fs.readFile(path.resolve(import.meta.dirname, "../../../seeds/sandbox/files/customers.csv"), "utf8"));
    } finally {
      o.destroy();
    }
  });

  it("maps wrong credentials to auth", async () => {
    // s3rver checks the access key id but does not verify SigV4 signatures, so the wrong part is the key id.
    const r = await s3Adapter.healthCheck(ctxOf({ secret: { access_key_id: "AKIA-NOT-A-KEY", secret_access_key: "wrong-secret" } }));
    expect(failureOf(r)?.kind).toBe("auth");
    const missing = await s3Adapter.healthCheck(ctxOf({ secret: {} }));
    expect(failureOf(missing)?.kind).toBe("auth");
  });

  it("maps a closed port to network", async () => {
    const r = await s3Adapter.healthCheck(ctxOf({ config: { endpoint: `http://127.0.0.1:${await closedPort()}` } }));
    expect(failureOf(r)?.kind).toBe("network");
  });

  it("maps a server that never answers to timeout", async () => {
    const net = await import("node:net");
    const sockets: import("node:net").Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // accepts, never replies
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const port = (silent.address() as import("node:net").AddressInfo).port;
      const r = await s3Adapter.healthCheck(ctxOf({ config: { endpoint: `http://127.0.0.1:${port}` }, policy: { requestTimeoutMs: 300 } }));
      expect(failureOf(r)?.kind).toBe("timeout");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it("refuses the metadata endpoint and endpoints that are not approved destinations", async () => {
    // metadata is refused outright (never approvable), not offered for approval
    const meta = await s3Adapter.healthCheck(ctxOf({ config: { endpoint: "http://169.254.169.254" } }));
    expect(failureOf(meta)?.kind).toBe("egress_refused");
    const priv = await s3Adapter.healthCheck(ctxOf({ destinations: NO_DESTINATIONS }));
    expect(failureOf(priv)?.kind).toBe("not_approved");
  });

  it("keeps a ranged read under the byte cap", async () => {
    const s = await s3Adapter.sample(ctxOf({ resourceIds: ["aam-sandbox/orders.json"], policy: { maxResponseBytes: 500 } }), { streams: [{ name: "aam-sandbox/orders.json", fields: [] }] });
    expect(failureOf(s)?.kind).toBe("too_large");
  });

  it("an endpoint that is not approved receives no TCP connection; approving its host:port lets the same intent proceed", async () => {
    let connections = 0;
    const srv = net.createServer((c) => {
      connections++;
      c.destroy();
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    const grantFor = (p: number): DestinationGrant => ({ catalogHosts: [], hosts: [{ pattern: "127.0.0.1", ports: [p], sourceTypes: ["s3_compat"], origin: "approved" }], folders: [], forbiddenFolders: [] });
    try {
      const r = await s3Adapter.healthCheck(ctxOf({ config: { endpoint: `http://127.0.0.1:${port}` }, destinations: grantFor(port + 1) }));
      expect(failureOf(r)).toMatchObject({ kind: "not_approved", destination: { kind: "host", host: "127.0.0.1", port } });
      await new Promise((res) => setTimeout(res, 100));
      expect(connections).toBe(0);
    } finally {
      await new Promise((res) => srv.close(res));
    }
    const sbPort = Number(new URL(sb.endpoint).port);
    expect(failureOf(await s3Adapter.healthCheck(ctxOf({ destinations: grantFor(sbPort + 1) })))?.kind).toBe("not_approved");
    const ok = await s3Adapter.discover(ctxOf({ destinations: grantFor(sbPort) }));
    expect(ok.ok && ok.value.streams.length).toBeGreaterThan(0);
  });

  it("pins the SDK's sockets to the vetted address and vets any other host name first", async () => {
    const ctx = ctxOf({ destinations: { catalogHosts: [], hosts: [{ pattern: "s3.corp.example", ports: [443], sourceTypes: [], origin: "approved" }], folders: [], forbiddenFolders: [] } });
    const agents = pinnedAgents(ctx, { host: "s3.corp.example", port: 443, region: "us-east-1", endpoint: "https://s3.corp.example" }, "10.1.2.3");
    const lookup = (agents.httpsAgent as unknown as { options: { lookup: (h: string, o: object, cb: (...a: unknown[]) => void) => void } }).options.lookup;
    const ask = (h: string) => new Promise<unknown[]>((r) => lookup(h, { all: true }, (...a) => r(a)));
    // the name is never resolved again: whatever DNS would say now, the socket goes to 10.1.2.3
    expect(await ask("s3.corp.example")).toEqual([null, [{ address: "10.1.2.3", family: 4 }]]);
    const other = await ask("attacker.example");
    expect(other[0]).toBeInstanceOf(Error);
    expect((other[0] as Error).message).toMatch(/^Destination not approved/);
  });

  it("maps errors to a kind plus S3's code, never the server's message", () => {
    const e = Object.assign(new Error("The bucket secret-admin-bucket-for-acme does not exist"), { name: "NoSuchBucket", $metadata: { httpStatusCode: 404 } });
    expect(mapS3Error(e)).toEqual({ kind: "other", message: "object store error (NoSuchBucket, HTTP 404)" });
  });
});

describe("s3 driver: a Range the server ignores", () => {
  it("reads the body only up to the cap and closes it (an endless body is not read in full)", async () => {
    const { Readable } = await import("node:stream");
    const { readBodyCapped } = await import("./s3");
    let produced = 0;
    let destroyed = false;
    const endless = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 0x61));
      },
      destroy(e, cb) {
        destroyed = true;
        cb(e);
      },
    });
    const bytes = await readBodyCapped(endless, 100_000);
    expect(bytes.byteLength).toBe(100_000);
    expect(destroyed).toBe(true);
    expect(produced).toBeLessThan(1024 * 1024); // a few chunks of read-ahead, never the object
    const small = await readBodyCapped(Readable.from([Buffer.from("abc"), Buffer.from("def")]), 1_000);
    expect(Buffer.from(small).toString()).toBe("abcdef");
  });
});
