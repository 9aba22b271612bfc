/**
 * A tiny MongoDB wire-protocol stand-in for tests (no mongod can be installed offline): it answers
 * the legacy OP_QUERY handshake with OP_REPLY, then OP_MSG commands — hello/ping, listDatabases,
 * listCollections, find, count, dbStats — over an in-memory set of databases, so the real `mongodb`
 * driver runs end to end. Databases in `denied` answer as MongoDB does for a user without privileges
 * on them: 13 Unauthorized, except listCollections with nameOnly + authorizedCollections, which
 * lists nothing.
 */
import net from "node:net";
import { BSON, type Document } from "mongodb";

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

export type MongoWire = { url: string; port: number; commands: string[]; close(): Promise<void> };

export async function startMongoWire(opts: { dbs: Record<string, Record<string, Document[]>>; denied?: string[] }): Promise<MongoWire> {
  const denied = new Set(opts.denied ?? []);
  const commands: string[] = [];
  let requestId = 1;
  const unauthorized = { ok: 0, code: 13, codeName: "Unauthorized", errmsg: "not authorized" };
  const hello = () => ({ ismaster: true, isWritablePrimary: true, helloOk: true, maxBsonObjectSize: 16 * 1024 * 1024, maxMessageSizeBytes: 48_000_000, maxWriteBatchSize: 100_000, localTime: new Date(), maxWireVersion: 17, minWireVersion: 0, readOnly: false, ok: 1 });
  const cursor = (ns: string, firstBatch: Document[]) => ({ cursor: { id: BSON.Long.fromNumber(0), ns, firstBatch }, ok: 1 });

  function answer(cmd: Document): Document {
    const name = Object.keys(cmd)[0] ?? "";
    const db = String(cmd.$db ?? "admin");
    commands.push(`${db}.${name}`);
    const colls = opts.dbs[db];
    switch (name.toLowerCase()) {
      case "hello":
      case "ismaster":
        return hello();
      case "ping":
      case "endsessions":
        return { ok: 1 };
      case "listdatabases":
        return { databases: Object.keys(opts.dbs).filter((d) => !denied.has(d)).map((name) => ({ name, sizeOnDisk: 1, empty: false })), totalSize: 1, ok: 1 };
      case "listcollections": {
        if (denied.has(db)) return cmd.nameOnly && cmd.authorizedCollections ? cursor(`${db}.$cmd.listCollections`, []) : unauthorized;
        const wanted = (cmd.filter as { name?: string } | undefined)?.name;
        const names = Object.keys(colls ?? {}).filter((n) => wanted === undefined || n === wanted);
        return cursor(`${db}.$cmd.listCollections`, names.map((n) => (cmd.nameOnly ? { name: n, type: "collection" } : { name: n, type: "collection", options: {}, info: { readOnly: false } })));
      }
      case "find":
        if (denied.has(db)) return unauthorized;
        return cursor(`${db}.${String(cmd.find)}`, (colls?.[String(cmd.find)] ?? []).slice(0, Number(cmd.limit ?? 101)));
      case "count":
        if (denied.has(db)) return unauthorized;
        return { n: (colls?.[String(cmd.count)] ?? []).length, ok: 1 };
      case "dbstats":
        if (denied.has(db)) return unauthorized;
        return { db, collections: Object.keys(colls ?? {}).length, objects: 0, ok: 1 };
      default:
        return { ok: 0, code: 59, codeName: "CommandNotFound", errmsg: `no such command: '${name}'` };
    }
  }

  function header(length: number, responseTo: number, opCode: number): Buffer {
    const h = Buffer.alloc(16);
    h.writeInt32LE(length, 0);
    h.writeInt32LE(requestId++, 4);
    h.writeInt32LE(responseTo, 8);
    h.writeInt32LE(opCode, 12);
    return h;
  }

  function handle(msg: Buffer): Buffer | undefined {
    const reqId = msg.readInt32LE(4);
    const opCode = msg.readInt32LE(12);
    if (opCode === OP_QUERY) {
      let at = 20;
      while (msg[at] !== 0) at++; // fullCollectionName
      at += 1 + 8; // NUL, numberToSkip, numberToReturn
      const doc = BSON.deserialize(msg.subarray(at, at + msg.readInt32LE(at)));
      const body = Buffer.from(BSON.serialize(answer({ ...doc, $db: "admin" })));
      const fixed = Buffer.alloc(20);
      fixed.writeInt32LE(1, 16); // numberReturned; responseFlags, cursorID, startingFrom stay 0
      return Buffer.concat([header(16 + 20 + body.length, reqId, OP_REPLY), fixed, body]);
    }
    if (opCode !== OP_MSG) return undefined;
    let at = 20;
    let cmd: Document = {};
    while (at < msg.length) {
      const kind = msg[at++];
      if (kind === 0) {
        const len = msg.readInt32LE(at);
        cmd = { ...BSON.deserialize(msg.subarray(at, at + len)), ...cmd };
        at += len;
      } else {
        at += msg.readInt32LE(at); // document sequences (writes): never sent by a Safe Mode read
      }
    }
    const body = Buffer.from(BSON.serialize(answer(cmd)));
    return Buffer.concat([header(16 + 5 + body.length, reqId, OP_MSG), Buffer.alloc(4), Buffer.from([0]), body]);
  }

  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    let buf = Buffer.alloc(0);
    sock.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
        const len = buf.readInt32LE(0);
        const reply = handle(buf.subarray(0, len));
        buf = buf.subarray(len);
        if (reply) sock.write(reply);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mongodb://127.0.0.1:${port}`,
    port,
    commands,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
