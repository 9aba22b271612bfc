/**
 * Mongo driver without a server (no mongod offline): URL building, write refusal before
 * anything is sent, failure mapping — plus the real driver failing against a closed port.
 */
import { NO_DESTINATIONS } from "../safe-mode/destinations";
import { MongoClient, MongoServerError } from "mongodb";
import { describe, expect, it } from "vitest";
import { closedPort, ctxFor } from "../../../tests/connectors/native/ctx";
import type { ConnectorFailure } from "../types";
import { buildMongoUrl, checkMongoReadOnly, mapMongoError, mongoAdapter, MongoSafeModeError, ReadOnlyMongo } from "./mongo";

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

  it("the adapter refuses a writing pipeline before connecting", async () => {
    const ctx = ctxFor("mongo", { secret: { dsn: `mongodb://127.0.0.1:${await closedPort()}/shop` }, config: { sample_pipeline: [{ $out: "stolen" }] } });
    expect(failureOf(await mongoAdapter.sample(ctx, { streams: [{ name: "shop.orders", fields: [] }] }))?.kind).toBe("safe_mode");
  });
});

describe("failures", () => {
  it("maps a closed port to network through the real driver", async () => {
    const ctx = ctxFor("mongo", { secret: { dsn: `mongodb://127.0.0.1:${await closedPort()}/shop` }, policy: { requestTimeoutMs: 1_500 } });
    expect(failureOf(await mongoAdapter.healthCheck(ctx))?.kind).toBe("network");
  });

  it("refuses the metadata address and unknown hosts before connecting", async () => {
    expect(failureOf(await mongoAdapter.healthCheck(ctxFor("mongo", { secret: { dsn: "mongodb://169.254.169.254:27017/x" } })))?.kind).toBe("not_approved");
    expect(failureOf(await mongoAdapter.healthCheck(ctxFor("mongo", { secret: { dsn: "mongodb://127.0.0.1:27017/x" }, destinations: NO_DESTINATIONS })))?.kind).toBe("not_approved");
    expect(failureOf(await mongoAdapter.healthCheck(ctxFor("mongo", { secret: { dsn: "mongodb://no-such-host.invalid/x" } })))?.kind).toBe("network");
  });

  it("maps server errors by code", () => {
    expect(mapMongoError(new MongoServerError({ code: 18, codeName: "AuthenticationFailed", errmsg: "Authentication failed." })).kind).toBe("auth");
    expect(mapMongoError(new MongoServerError({ code: 13, codeName: "Unauthorized", errmsg: "not authorized" })).kind).toBe("auth");
    expect(mapMongoError(new MongoServerError({ code: 50, codeName: "MaxTimeMSExpired", errmsg: "operation exceeded time limit" })).kind).toBe("timeout");
    expect(mapMongoError(new MongoSafeModeError("no")).kind).toBe("safe_mode");
  });
});
