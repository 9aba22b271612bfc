/**
 * Mongo driver without a server (no mongod offline): URL building, write refusal before
 * anything is sent, failure mapping — plus the real driver failing against a closed port.
 */
import { NO_DESTINATIONS } from "../safe-mode/destinations";
import { MongoClient, MongoServerError } from "mongodb";
import { describe, expect, it } from "vitest";
import { closedPort, ctxFor } from "../../../tests/connectors/native/ctx";
import type { ConnectorFailure } from "../types";
import net from "node:net";
import type { DestinationGrant } from "../safe-mode/destinations";
import { buildMongoUrl, checkMongoReadOnly, mapMongoError, mongoAdapter, MongoSafeModeError, planMongoConnection, ReadOnlyMongo } from "./mongo";

const failureOf = (r: { ok: boolean; error?: ConnectorFailure }) => (r.ok ? undefined : r.error);

describe("buildMongoUrl", () => {
  it("takes a mongodb:// URL from the secret and lists its hosts", () => {
    const r = buildMongoUrl({ secret: { dsn: "mongodb://u:p@a.example.com:27018,b.example.com/shop?replicaSet=rs0" }, config: {} });
    expect(r.ok && r.value).toMatchObject({ hosts: [{ host: "a.example.com", port: 27018 }, { host: "b.example.com", port: 27017 }], srv: false, database: "shop" });
  });

  it("builds one from config + secret password, escaping credentials", () => {
    const r = buildMongoUrl({ secret: { password: "p@ss/word" }, config: { host: "db.example.com", database: "crm", user: "reader" } });
    expect(r.ok && r.value.url).toBe("mongodb://reader:p%40ss%2Fword@db.example.com:27017/crm?authSource=admin");
  });

  it("recognizes mongodb+srv and IPv6 hosts", () => {
    expect(buildMongoUrl({ secret: { token: "mongodb+srv://u:p@cluster0.example.net/app" }, config: {} })).toMatchObject({ ok: true, value: { srv: true, hosts: [{ host: "cluster0.example.net" }] } });
    expect(buildMongoUrl({ secret: { url: "mongodb://[::1]:27019/x" }, config: {} })).toMatchObject({ ok: true, value: { hosts: [{ host: "::1", port: 27019 }] } });
  });

  it("fails without a URL or host", () => {
    expect(failureOf(buildMongoUrl({ secret: {}, config: {} }))?.kind).toBe("other");
  });
});

describe("write refusal", () => {
  it("finds $out, $merge and server-side JavaScript at any depth", () => {
    expect(checkMongoReadOnly([{ $match: {} }, { $out: "copy" }])).toContain("$out");
    expect(checkMongoReadOnly([{ $facet: { a: [{ $merge: { into: "x" } }] } }])).toContain("$merge");
    expect(checkMongoReadOnly({ $where: "this.a > 1" })).toContain("$where");
    expect(checkMongoReadOnly([{ $match: { status: "paid" } }, { $project: { _id: 0 } }])).toBeUndefined();
  });

  it("ReadOnlyMongo refuses write commands without touching the network", async () => {
    // A client that was never connected, pointing at a closed port: if anything were sent, the
    // driver would first try to select a server and fail with a network error, not this.
    const client = new MongoClient(`mongodb://127.0.0.1:${await closedPort()}/x`, { serverSelectionTimeoutMS: 1_000, monitorCommands: true });
    const events: string[] = [];
    for (const e of ["commandStarted", "topologyOpening", "serverOpening", "connectionPoolCreated"] as const) client.on(e, () => events.push(e));
    const db = new ReadOnlyMongo(client.db("x"), 1_000);
    try {
      for (const cmd of [{ insert: "t", documents: [{ a: 1 }] }, { update: "t", updates: [] }, { delete: "t", deletes: [] }, { drop: "t" }, { findAndModify: "t" }, { create: "t" }, { dropDatabase: 1 }]) {
        await expect(db.command(cmd)).rejects.toBeInstanceOf(MongoSafeModeError);
      }
      await expect(db.command({ aggregate: "t", pipeline: [{ $out: "copy" }], cursor: {} })).rejects.toBeInstanceOf(MongoSafeModeError);
      await expect(db.aggregate("t", [{ $merge: { into: "x" } }], 5)).rejects.toBeInstanceOf(MongoSafeModeError);
      await expect(db.find("t", { $where: "sleep(1000)" }, 5)).rejects.toBeInstanceOf(MongoSafeModeError);
      expect(events).toEqual([]); // no topology opened, no command started
      // Control: a read on the same client does reach the driver (and fails on the closed port).
      await expect(db.command({ ping: 1 })).rejects.not.toBeInstanceOf(MongoSafeModeError);
      expect(events).toContain("topologyOpening");
    } finally {
      await client.close();
    }
  });

  it("ignores config.sample_pipeline / sample_filter: the intent carries no query documents", async () => {
    // the plan is the same whatever those keys say, and nothing in the module reads them
    const t = buildMongoUrl({ secret: { dsn: "mongodb://127.0.0.1:27017/shop" }, config: {} });
    if (!t.ok) throw new Error("url");
    const plain = await planMongoConnection(ctxFor("mongo"), t.value);
    const hostile = await planMongoConnection(ctxFor("mongo", { config: { sample_pipeline: [{ $out: "stolen" }], sample_filter: { $where: "1" } } }), t.value);
    expect(hostile.ok && hostile.value.url).toBe(plain.ok && plain.value.url);
    const src = await import("node:fs").then((fs) => fs.readFileSync(new URL("./mongo.ts", import.meta.url), "utf8"));
    expect(src).not.toMatch(/config\.sample_(pipeline|filter)/);
  });
});

describe("failures", () => {
  it("maps a closed port to network through the real driver", async () => {
    const ctx = ctxFor("mongo", { secret: { dsn: `mongodb://127.0.0.1:${await closedPort()}/shop` }, policy: { requestTimeoutMs: 1_500 } });
    expect(failureOf(await mongoAdapter.healthCheck(ctx))?.kind).toBe("network");
  });

  it("refuses the metadata address and unknown hosts before connecting", async () => {
    expect(failureOf(await mongoAdapter.healthCheck(ctxFor("mongo", { secret: { dsn: "mongodb://169.254.169.254:27017/x" } })))?.kind).toBe("egress_refused");
    expect(failureOf(await mongoAdapter.healthCheck(ctxFor("mongo", { secret: { dsn: "mongodb://127.0.0.1:27017/x" }, destinations: NO_DESTINATIONS })))?.kind).toBe("not_approved");
    expect(failureOf(await mongoAdapter.healthCheck(ctxFor("mongo", { secret: { dsn: "mongodb://no-such-host.invalid/x" } })))?.kind).toBe("network");
  });

  it("maps server errors by code, never echoing the server's message", () => {
    const leaky = new MongoServerError({ code: 2, codeName: "BadValue", errmsg: "bad value: admin,root,secret_role" });
    expect(mapMongoError(leaky)).toEqual({ kind: "other", message: "MongoDB error (2 BadValue)" });
    expect(mapMongoError(new MongoServerError({ code: 18, codeName: "AuthenticationFailed", errmsg: "Authentication failed." })).kind).toBe("auth");
    expect(mapMongoError(new MongoServerError({ code: 13, codeName: "Unauthorized", errmsg: "not authorized" })).kind).toBe("auth");
    expect(mapMongoError(new MongoServerError({ code: 50, codeName: "MaxTimeMSExpired", errmsg: "operation exceeded time limit" })).kind).toBe("timeout");
    expect(mapMongoError(new MongoSafeModeError("no")).kind).toBe("safe_mode");
  });
});

const grant = (pattern: string, ports: number[]): DestinationGrant => ({
  catalogHosts: [],
  hosts: [{ pattern, ports, sourceTypes: [], origin: "approved" }],
  folders: [],
  forbiddenFolders: [],
});

/** A TCP listener that counts connections and closes them at once. */
async function listener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const srv = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { port: (srv.address() as net.AddressInfo).port, connections: () => n, close: () => new Promise((r) => srv.close(() => r())) };
}

describe("trust boundary and pinning", () => {
  it("an unapproved host:port receives no TCP connection; once approved, the driver connects", async () => {
    const l = await listener();
    try {
      const dsn = `mongodb://reader:pw@127.0.0.1:${l.port}/shop`;
      const refused = await mongoAdapter.healthCheck(ctxFor("mongo", { secret: { dsn }, destinations: grant("127.0.0.1", [l.port + 1]) }));
      expect(failureOf(refused)).toMatchObject({ kind: "not_approved", destination: { kind: "host", host: "127.0.0.1", port: l.port } });
      expect(failureOf(refused)?.message).toMatch(/^Destination not approved/);
      await new Promise((r) => setTimeout(r, 100));
      expect(l.connections()).toBe(0);
      const approved = await mongoAdapter.healthCheck(ctxFor("mongo", { secret: { dsn }, destinations: grant("127.0.0.1", [l.port]), policy: { requestTimeoutMs: 800 } }));
      expect(failureOf(approved)?.kind).toBe("network"); // it proceeded: the listener hangs up (no mongod offline)
      expect(l.connections()).toBeGreaterThan(0);
    } finally {
      await l.close();
    }
  });

  it("every replica-set seed must be approved", async () => {
    const t = buildMongoUrl({ secret: { dsn: "mongodb://127.0.0.1:27017,127.0.0.2:27018/shop?replicaSet=rs0" }, config: {} });
    if (!t.ok) throw new Error("url");
    const partly = await planMongoConnection(ctxFor("mongo", { destinations: grant("127.0.0.1", [27017]) }), t.value);
    expect(failureOf(partly)).toMatchObject({ kind: "not_approved", destination: { host: "127.0.0.2", port: 27018 } });
  });

  it("connects directly to one vetted seed: no member discovery, TLS settings from the URL dropped, lookup pinned", async () => {
    const t = buildMongoUrl({
      secret: { dsn: "mongodb://u:p@localhost:27017,127.0.0.1:27018/shop?replicaSet=rs0&tls=false&tlsAllowInvalidCertificates=true&directConnection=false&authSource=admin" },
      config: {},
    });
    if (!t.ok) throw new Error("url");
    const plan = await planMongoConnection(ctxFor("mongo"), t.value);
    if (!plan.ok) throw new Error(plan.error.message);
    expect(plan.value.url).toBe("mongodb://u:p@localhost:27017/shop?authSource=admin");
    expect(plan.value.options).toMatchObject({ directConnection: true, tls: false });
    expect(plan.value.address).toBe("127.0.0.1");
    const lookup = plan.value.options.lookup as unknown as (h: string, o: object, cb: (...a: unknown[]) => void) => void;
    const ask = (h: string, all: boolean) => new Promise<unknown[]>((r) => lookup(h, { all }, (...a) => r(a)));
    expect(await ask("localhost", true)).toEqual([null, [{ address: "127.0.0.1", family: 4 }]]);
    expect(await ask("localhost", false)).toEqual([null, "127.0.0.1", 4]);
    // a member the server might advertise, or any other name: refused
    const other = await ask("evil.example.com", false);
    expect(other[0]).toBeInstanceOf(Error);
    expect(String((other[0] as Error).message)).toContain("not approved");
  });

  it("refuses mechanisms that would present this server's own identity (MONGODB-AWS, MONGODB-OIDC, GSSAPI); keeps SCRAM; drops authMechanismProperties", async () => {
    // found in the trust-boundary audit: ENVIRONMENT:azure/k8s had the driver read this server's token file and send it to the URL's server
    for (const mech of ["MONGODB-OIDC", "MONGODB-AWS", "GSSAPI", "mongodb-oidc"]) {
      const t = buildMongoUrl({ secret: { dsn: `mongodb://127.0.0.1:27017/app?authMechanism=${mech}&authMechanismProperties=ENVIRONMENT:k8s` }, config: {} });
      if (!t.ok) throw new Error("url");
      expect(failureOf(await planMongoConnection(ctxFor("mongo"), t.value)), mech).toMatchObject({ kind: "safe_mode", message: expect.stringContaining("is refused in Safe Mode") });
    }
    const scram = buildMongoUrl({ secret: { dsn: "mongodb://u:p@127.0.0.1:27017/app?authMechanism=SCRAM-SHA-256&authMechanismProperties=SERVICE_NAME:x" }, config: {} });
    if (!scram.ok) throw new Error("url");
    const plan = await planMongoConnection(ctxFor("mongo"), scram.value);
    expect(plan.ok && plan.value.url).toBe("mongodb://u:p@127.0.0.1:27017/app?authMechanism=SCRAM-SHA-256");
  });

  it("a password with an unescaped @ is refused in words that hold no part of it", () => {
    const r = buildMongoUrl({ secret: { dsn: "mongodb://reporter:Tr0ub4dor@horse99@db.corp.example/app" }, config: {} });
    expect(failureOf(r)).toMatchObject({ kind: "other", message: "the MongoDB URL has an unescaped @ in its user name or password: percent-encode it as %40" });
    expect(JSON.stringify(r)).not.toMatch(/horse99|Tr0ub4dor/);
  });

  it("uses verified TLS to a non-loopback seed, whatever the URL says", async () => {
    const t = buildMongoUrl({ secret: { dsn: "mongodb://u:p@[fd00::2]:27017/shop?tls=false" }, config: {} });
    if (!t.ok) throw new Error("url");
    const plan = await planMongoConnection(ctxFor("mongo", { destinations: grant("fd00::2", [27017]) }), t.value);
    expect(plan.ok && plan.value.options).toMatchObject({ tls: true, tlsAllowInvalidCertificates: false, tlsAllowInvalidHostnames: false });
    expect(plan.ok && plan.value.url).toBe("mongodb://u:p@[fd00::2]:27017/shop");
  });
});

describe("mongo: byte and row caps on the cursor", () => {
  it("stops reading at the byte cap and closes the cursor; documents past it are never pulled", async () => {
    let pulled = 0;
    let closed = false;
    let options: Record<string, unknown> = {};
    const big = "x".repeat(100_000);
    const cursor = {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          pulled++;
          yield { _id: pulled, body: big };
        }
      },
      close: async () => {
        closed = true;
      },
    };
    const fakeDb = { collection: () => ({ find: (_f: unknown, o: Record<string, unknown>) => ((options = o), cursor) }) } as never;
    const db = new ReadOnlyMongo(fakeDb, 1_000);
    const docs = await db.find("t", {}, 20, 350_000);
    expect(docs.map((d) => d._id)).toEqual([1, 2, 3]);
    expect(pulled).toBe(4); // the one that would pass the cap, and no more
    expect(closed).toBe(true);
    expect(options).toMatchObject({ limit: 20, batchSize: 5 });
    // the row cap alone
    pulled = 0;
    expect(await db.find("t", {}, 2)).toHaveLength(2);
    expect(pulled).toBe(2);
  });
});
