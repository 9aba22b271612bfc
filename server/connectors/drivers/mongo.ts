/**
 * MongoDB driver: listCollections + find with a limit under a read preference. Every database
 * call goes through `ReadOnlyMongo`, which only knows read commands and refuses writes ($out /
 * $merge stages, server-side JavaScript, any non-read command) before anything is sent.
 * Intents carry no query documents (no `sample_filter` / `sample_pipeline`): the driver only
 * lists collections and reads the first documents with an empty filter.
 *
 * Trust boundary: every seed host (and every SRV target) must be an approved destination; the
 * client then connects with `directConnection: true` to ONE vetted seed, through a `lookup` that
 * returns the vetted address for that host name and refuses every other name. Replica-set
 * members the server advertises are therefore never contacted (no discovery), so a hostile or
 * compromised server cannot steer the credential to another host, and DNS cannot change between
 * the check and the connection. (The alternative, following members and vetting each, cannot be
 * pinned per port: Node's lookup hook never sees the port.) A read on one member is enough for a
 * Safe Mode probe. TLS: verified against the host name off loopback (sql-target.ts databaseTls).
 * No mongod is available offline: coverage is unit-level, TCP listeners, and the wire stand-in
 * tests/helpers/mongo-wire.ts (the real driver end to end: tests/connectors/named-resources.test.ts).
 */
import { resolveSrv } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { BSON, MongoClient, type Db, type Document, type MongoClientOptions, type ReadPreferenceMode } from "mongodb";
import { err, ok } from "../../lib/result";
import { checkDestination } from "../safe-mode/destinations";
import { databaseTls, type TlsRequest } from "../safe-mode/sql-target";
import { bucketFor } from "../safe-mode/rate-limit";
import { finishSample, sampleBudget } from "../safe-mode/records";
import type { ConnectorContext, ConnectorFailure, ConnectorResult, DiscoveredSchema, FieldInfo, NamedResourceCheck, SampleRecord, SourceAdapter, StreamInfo } from "../types";
import { inferFields } from "./filesource";

export class MongoSafeModeError extends Error {
  readonly kind = "safe_mode" as const;
}

export const MONGO_READ_COMMANDS = new Set([
  "ping", "hello", "ismaster", "buildinfo", "listcollections", "listdatabases", "find", "count", "distinct",
  "aggregate", "collstats", "dbstats", "getmore", "killcursors", "connectionstatus", "listindexes",
]);
const FORBIDDEN_OPERATORS = new Set(["$out", "$merge", "$where", "$function", "$accumulator"]);

/** Refuses a filter or pipeline that writes or runs server-side JavaScript (searched at any depth). */
export function checkMongoReadOnly(value: unknown, depth = 0): string | undefined {
  if (depth > 20) return "document nested too deep";
  if (Array.isArray(value)) {
    for (const v of value) {
      const why = checkMongoReadOnly(v, depth + 1);
      if (why) return why;
    }
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (FORBIDDEN_OPERATORS.has(k)) return `${k} is not allowed in Safe Mode`;
      const why = checkMongoReadOnly(v, depth + 1);
      if (why) return why;
    }
  }
  return undefined;
}

/** Documents per batch: with the byte cap, at most one batch (≤ 16 MB, MongoDB's own bound) is read past it. */
const MONGO_BATCH = 5;

/**
 * Reads a cursor up to `limit` documents and `maxBytes` of BSON, then closes it: the documents
 * past the cap are never fetched (no further getMore).
 */
export async function readCursorCapped(cursor: AsyncIterable<Document> & { close(): Promise<void> }, limit: number, maxBytes: number): Promise<Document[]> {
  const out: Document[] = [];
  let bytes = 0;
  try {
    for await (const doc of cursor) {
      const size = BSON.calculateObjectSize(doc);
      if (bytes + size > maxBytes) break;
      bytes += size;
      out.push(doc);
      if (out.length >= limit) break;
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
  return out;
}

/** The only handle discover/sample get: reads, or a MongoSafeModeError before sending. */
export class ReadOnlyMongo {
  constructor(private readonly db: Db, private readonly maxTimeMS: number) {}

  async command(cmd: Document): Promise<Document> {
    const name = Object.keys(cmd)[0]?.toLowerCase() ?? "";
    if (!MONGO_READ_COMMANDS.has(name)) throw new MongoSafeModeError(`Safe Mode refused the MongoDB command "${Object.keys(cmd)[0] ?? ""}": only reads are allowed`);
    const why = checkMongoReadOnly(cmd);
    if (why) throw new MongoSafeModeError(`Safe Mode refused the MongoDB command: ${why}`);
    return this.db.command(cmd, { timeoutMS: this.maxTimeMS });
  }

  async listCollections(limit: number): Promise<{ name: string; type?: string; options?: Document }[]> {
    const list = await this.db.listCollections({}, { nameOnly: false, authorizedCollections: true }).toArray();
    return list.filter((c) => !c.name.startsWith("system.")).slice(0, limit) as { name: string; type?: string; options?: Document }[];
  }

  /** Names of the collections this user holds some privilege on (nameOnly + authorizedCollections: no listCollections privilege needed). */
  async collectionNames(name?: string): Promise<string[]> {
    const list = await this.db.listCollections(name === undefined ? {} : { name }, { nameOnly: true, authorizedCollections: true }).toArray();
    return list.map((c) => c.name).filter((n) => !n.startsWith("system."));
  }

  async find(collection: string, filter: Document, limit: number, maxBytes = Number.POSITIVE_INFINITY): Promise<Document[]> {
    const why = checkMongoReadOnly(filter);
    if (why) throw new MongoSafeModeError(`Safe Mode refused the filter: ${why}`);
    if (limit <= 0 || maxBytes <= 0) return [];
    const cursor = this.db.collection(collection).find(filter, { limit, batchSize: Math.min(limit, MONGO_BATCH), maxTimeMS: this.maxTimeMS });
    return readCursorCapped(cursor, limit, maxBytes);
  }

  async aggregate(collection: string, pipeline: Document[], limit: number, maxBytes = Number.POSITIVE_INFINITY): Promise<Document[]> {
    const why = checkMongoReadOnly(pipeline);
    if (why) throw new MongoSafeModeError(`Safe Mode refused the pipeline: ${why}`);
    if (limit <= 0 || maxBytes <= 0) return [];
    const cursor = this.db.collection(collection).aggregate([...pipeline, { $limit: limit }], { maxTimeMS: this.maxTimeMS, batchSize: Math.min(limit, MONGO_BATCH) });
    return readCursorCapped(cursor, limit, maxBytes);
  }
}

export type MongoTarget = { url: string; hosts: { host: string; port: number }[]; srv: boolean; database?: string };

const enc = encodeURIComponent;

/** The connection URL from the secret (dsn/url/token) or config host(s)/port/database + user/password. */
export function buildMongoUrl(ctx: Pick<ConnectorContext, "secret" | "config">): ConnectorResult<MongoTarget> {
  const candidates = [ctx.secret.dsn, ctx.secret.url, ctx.secret.token, ctx.config.url as string | undefined];
  let url = candidates.find((c): c is string => typeof c === "string" && /^mongodb(\+srv)?:\/\//i.test(c.trim()))?.trim();
  if (!url) {
    const host = typeof ctx.config.host === "string" ? ctx.config.host : undefined;
    if (!host) return err({ kind: "other", message: "no mongodb:// URL in the secret and no config.host" });
    const port = ctx.config.port ? `:${String(ctx.config.port)}` : host.includes(":") ? "" : ":27017";
    const user = (ctx.config.user ?? ctx.config.username ?? ctx.secret.username ?? ctx.secret.user) as string | undefined;
    const password = ctx.secret.password ?? (ctx.secret.token && !/^mongodb/i.test(ctx.secret.token) ? ctx.secret.token : undefined);
    const auth = user ? `${enc(user)}${password ? `:${enc(password)}` : ""}@` : "";
    const db = typeof ctx.config.database === "string" ? ctx.config.database : "";
    const authSource = typeof ctx.config.auth_source === "string" ? ctx.config.auth_source : user ? "admin" : undefined;
    url = `mongodb://${auth}${host}${port}/${enc(db)}${authSource ? `?authSource=${enc(authSource)}` : ""}`;
  }
  const m = /^mongodb(\+srv)?:\/\/(?:[^@/]*@)?([^/?]+)(?:\/([^?]*))?/i.exec(url);
  if (!m) return err({ kind: "other", message: "the MongoDB URL cannot be parsed" });
  // a user or password with an unescaped "@" would put its tail in the host list — and from there
  // in a refusal's words and the destination offered for approval (trust-boundary audit)
  if (m[2]!.includes("@")) return err({ kind: "other", message: "the MongoDB URL has an unescaped @ in its user name or password: percent-encode it as %40" });
  const srv = !!m[1];
  const hosts = m[2]!.split(",").map((h) => {
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(h);
    if (v6) return { host: v6[1]!, port: Number(v6[2] ?? 27017) };
    const [host, port] = h.split(":");
    return { host: host!, port: Number(port ?? 27017) };
  });
  const database = m[3] ? decodeURIComponent(m[3]) : typeof ctx.config.database === "string" ? ctx.config.database : undefined;
  return ok({ url, hosts, srv, database: database || undefined });
}

/**
 * A kind plus MongoDB's numeric code and code name (e.g. `13 Unauthorized`) or the driver's error
 * class; the server's message text is never used (it can echo values).
 */
export function mapMongoError(e: unknown): ConnectorFailure {
  if (e instanceof MongoSafeModeError) return { kind: "safe_mode", message: e.message };
  const x = e as { name?: unknown; code?: unknown; codeName?: unknown; message?: unknown };
  const name = typeof x?.name === "string" && /^[A-Za-z]{1,64}$/.test(x.name) ? x.name : "";
  const code = typeof x?.code === "number" ? x.code : undefined;
  const codeName = typeof x?.codeName === "string" && /^[A-Za-z0-9_]{1,64}$/.test(x.codeName) ? x.codeName : "";
  const msg = typeof x?.message === "string" ? x.message : "";
  const tag = [code !== undefined ? String(code) : "", codeName].filter(Boolean).join(" ") || name;
  const suffix = tag ? ` (${tag})` : "";
  if (code === 18 || code === 13 || codeName === "AuthenticationFailed" || codeName === "Unauthorized" || (/^MongoServerError$/.test(name) && /authentication failed/i.test(msg))) {
    return { kind: "auth", message: `MongoDB refused the credentials or access${suffix}` };
  }
  if (code === 50 || codeName === "MaxTimeMSExpired" || name === "MongoNetworkTimeoutError" || name === "MongoOperationTimeoutError") {
    return { kind: "timeout", message: `MongoDB did not answer within the Safe Mode timeout${suffix}` };
  }
  if (name === "MongoServerSelectionError" || name === "MongoNetworkError" || name === "MongoTopologyClosedError") {
    return /timed out/i.test(msg) && !/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|getaddrinfo|not approved/.test(msg)
      ? { kind: "timeout", message: `MongoDB did not answer within the Safe Mode timeout (${name})` }
      : { kind: "network", message: `network error reaching MongoDB (${name})` };
  }
  return { kind: "other", message: `MongoDB error${suffix}` };
}

const READ_PREFERENCES = new Set(["primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"]);

/** URL options that could widen where the client goes or lower TLS: the driver's own settings win. */
const DROPPED_URL_OPTIONS = new Set([
  "directconnection", "loadbalanced", "srvservicename", "srvmaxhosts", "replicaset", "tls", "ssl", "tlsinsecure",
  "tlsallowinvalidcertificates", "tlsallowinvalidhostnames", "tlsdisableocspendpointcheck", "tlsdisablecertificaterevocationcheck",
  "tlscafile", "tlscertificatekeyfile", "tlscertificatekeyfilepassword", "proxyhost", "proxyport", "proxyusername", "proxypassword",
]);

/** Mechanisms that prove the connection's own user name and password (or its client certificate). */
const ALLOWED_AUTH_MECHANISMS = new Set(["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN", "MONGODB-X509", "DEFAULT"]);

export type MongoPlan = { url: string; options: MongoClientOptions; host: string; port: number; address: string };

/**
 * Vets every seed (and SRV target), then plans ONE direct, pinned connection to the first seed:
 * a `mongodb://` URL naming only that host (so TLS verifies the name), `directConnection: true`
 * and a `lookup` that answers the vetted address for that name and refuses any other.
 */
export async function planMongoConnection(ctx: ConnectorContext, t: MongoTarget): Promise<ConnectorResult<MongoPlan>> {
  const hosts = t.srv ? [] : [...t.hosts];
  if (t.srv) {
    const srvHost = t.hosts[0]!.host;
    // every target the SRV record lists is vetted below, like a seed
    try {
      const records = await resolveSrv(`_mongodb._tcp.${srvHost}`);
      hosts.push(...records.map((r) => ({ host: r.name, port: r.port })));
    } catch {
      return err({ kind: "network", message: "could not resolve the SRV record of the MongoDB host" });
    }
    if (hosts.length === 0) return err({ kind: "network", message: "the MongoDB SRV record lists no hosts" });
  }
  const vetted: { host: string; port: number; address: string }[] = [];
  for (const h of hosts) {
    const e = await checkDestination(ctx, h.host, h.port);
    if (!e.ok) return e;
    vetted.push({ ...h, address: e.value.addresses.find((a) => isIP(a) === 4) ?? e.value.address });
  }
  const seed = vetted[0]!;
  const m = /^mongodb(?:\+srv)?:\/\/(?:([^@/]*)@)?[^/?]+(?:\/([^?]*))?(?:\?(.*))?$/i.exec(t.url);
  if (!m) return err({ kind: "other", message: "the MongoDB URL cannot be parsed" });
  const params = new URLSearchParams(m[3] ?? "");
  const request: TlsRequest = t.srv
    ? "verify"
    : /^(true|1)$/i.test(params.get("tls") ?? params.get("ssl") ?? "")
      ? /^(true|1)$/i.test(params.get("tlsInsecure") ?? params.get("tlsAllowInvalidCertificates") ?? "") ? "require" : "verify"
      : "default";
  for (const k of [...params.keys()]) if (DROPPED_URL_OPTIONS.has(k.toLowerCase())) params.delete(k);
  // only mechanisms whose proof is the connection's own secret: MONGODB-AWS, MONGODB-OIDC and
  // GSSAPI would have the client fetch this server's own cloud or Kerberos identity (instance
  // metadata, a service-account token file) and present it to the URL's server
  for (const k of [...params.keys()]) {
    const key = k.toLowerCase();
    if (key === "authmechanismproperties") params.delete(k);
    else if (key === "authmechanism" && !ALLOWED_AUTH_MECHANISMS.has((params.get(k) ?? "").toUpperCase())) {
      return err({ kind: "safe_mode", message: `authMechanism ${(params.get(k) ?? "").slice(0, 24).replace(/[^A-Za-z0-9_-]/g, "")} is refused in Safe Mode: it would present this server's own identity, not the connection's; use SCRAM-SHA-256 (user and password)` });
    }
  }
  if (t.srv && !params.has("authSource") && m[1]) params.set("authSource", "admin");
  const hostPart = isIP(seed.host) === 6 ? `[${seed.host}]` : seed.host;
  const query = params.toString();
  const url = `mongodb://${m[1] ? `${m[1]}@` : ""}${hostPart}:${seed.port}/${m[2] ?? ""}${query ? `?${query}` : ""}`;
  const tls = databaseTls(seed.host, seed.address, request);
  const family = isIP(seed.address) === 6 ? 6 : 4;
  const lookup: LookupFunction = (hostname, options, callback) => {
    const cb = callback as (e: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;
    if (hostname.replace(/^\[|\]$/g, "").toLowerCase() !== seed.host.toLowerCase()) {
      const e = Object.assign(new Error("destination not approved (not the vetted MongoDB seed)"), { code: "ENOTFOUND" });
      cb(e, "", 0);
      return;
    }
    if ((options as { all?: boolean }).all) cb(null, [{ address: seed.address, family }]);
    else cb(null, seed.address, family);
  };
  const timeout = ctx.policy.requestTimeoutMs;
  const pref = typeof ctx.config.read_preference === "string" && READ_PREFERENCES.has(ctx.config.read_preference) ? ctx.config.read_preference : "secondaryPreferred";
  const options: MongoClientOptions = {
    directConnection: true,
    lookup,
    tls: tls.tls,
    ...(tls.tls ? { tlsAllowInvalidCertificates: !tls.verify, tlsAllowInvalidHostnames: !tls.verify, ...(ctx.secret.ca_cert ? { ca: ctx.secret.ca_cert } : {}) } : {}),
    readPreference: pref as ReadPreferenceMode,
    serverSelectionTimeoutMS: timeout,
    connectTimeoutMS: timeout,
    socketTimeoutMS: timeout,
    maxPoolSize: 1,
    retryWrites: false,
    appName: "aam-safe-mode",
  };
  return ok({ url, options, host: seed.host, port: seed.port, address: seed.address });
}

async function withMongo<T>(ctx: ConnectorContext, fn: (client: MongoClient, t: MongoTarget) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  const target = buildMongoUrl(ctx);
  if (!target.ok) return target;
  const t = target.value;
  const plan = await planMongoConnection(ctx, t);
  if (!plan.ok) return plan;
  if (!(await bucketFor(ctx.connectionId, ctx.policy.ratePerMinute).take(ctx.policy.requestTimeoutMs))) {
    return err({ kind: "rate_limited", message: "the per-connection rate cap is exhausted" });
  }
  let client: MongoClient | undefined;
  try {
    // inside the try: the constructor parses the URL, and its errors must end in words, not a stack
    client = new MongoClient(plan.value.url, plan.value.options);
    await client.connect();
    return await fn(client, t);
  } catch (e) {
    return err(mapMongoError(e));
  } finally {
    await client?.close().catch(() => undefined);
  }
}

const SYSTEM_DBS = new Set(["admin", "local", "config"]);
const MAX_COLLECTIONS = 200;

async function databasesOf(client: MongoClient, t: MongoTarget, timeout: number): Promise<string[]> {
  if (t.database) return [t.database];
  const r = await new ReadOnlyMongo(client.db("admin"), timeout).command({ listDatabases: 1, nameOnly: true, authorizedDatabases: true });
  return ((r.databases ?? []) as { name: string }[]).map((d) => d.name).filter((n) => !SYSTEM_DBS.has(n)).slice(0, 10);
}

function fieldsFromValidator(options: Document | undefined): FieldInfo[] | undefined {
  const props = options?.validator?.$jsonSchema?.properties as Record<string, { bsonType?: string | string[]; type?: string }> | undefined;
  if (!props) return undefined;
  const required = new Set<string>(options?.validator?.$jsonSchema?.required ?? []);
  return Object.entries(props).map(([name, p]) => ({ name, type: String([p.bsonType ?? p.type ?? "mixed"].flat()[0]), nullable: !required.has(name) }));
}

async function discoverMongo(client: MongoClient, t: MongoTarget, ctx: ConnectorContext): Promise<ConnectorResult<DiscoveredSchema>> {
  const timeout = ctx.policy.requestTimeoutMs;
  const streams: StreamInfo[] = [];
  for (const dbName of await databasesOf(client, t, timeout)) {
    const db = new ReadOnlyMongo(client.db(dbName), timeout);
    let collections: Awaited<ReturnType<ReadOnlyMongo["listCollections"]>>;
    try {
      collections = await db.listCollections(MAX_COLLECTIONS - streams.length);
    } catch (e) {
      // a named database the user may not list: the named-resource check below says so, naming it
      if (ctx.resourceIds.length && isUnauthorized(e)) continue;
      throw e;
    }
    for (const c of collections) {
      const name = `${dbName}.${c.name}`;
      if (ctx.resourceIds.length && !ctx.resourceIds.some((r) => r === name || r === c.name || r === dbName)) continue;
      // Field names come from the validator, else from a few documents; no document leaves discover.
      const fields = fieldsFromValidator(c.options) ?? inferFields((await db.find(c.name, {}, 5)) as Record<string, unknown>[]);
      streams.push({ name, fields });
    }
  }
  const resources = await checkNamedMongo(client, t, ctx, streams);
  return ok({ streams, ...(resources.length ? { resources } : {}) });
}

const isUnauthorized = (e: unknown) => (e as { code?: unknown })?.code === 13 || (e as { codeName?: unknown })?.codeName === "Unauthorized";

/**
 * Every named database or collection must be found (issue 10 item 7). An id is `db.collection`, a
 * collection of the URL's database, or (without one) a database. One discovery did not list is
 * probed: a collection the user may not read answers `count` with 13 Unauthorized (not visible); one
 * it may read but that has no documents and no entry is absent. A database: `dbStats` answers 13 when
 * the user holds no privilege on it (not visible), else it shows whether the database has collections.
 */
async function checkNamedMongo(client: MongoClient, t: MongoTarget, ctx: ConnectorContext, streams: StreamInfo[]): Promise<NamedResourceCheck[]> {
  const timeout = ctx.policy.requestTimeoutMs;
  const out: NamedResourceCheck[] = [];
  for (const id of ctx.resourceIds) {
    const dot = id.indexOf(".");
    const dbName = dot > 0 ? id.slice(0, dot) : t.database ?? id;
    const coll = dot > 0 ? id.slice(dot + 1) : t.database ? id : undefined;
    const kind = coll === undefined ? "database" : "collection";
    const label = coll === undefined ? `database ${dbName}` : `collection ${coll} of database ${dbName}`;
    if (streams.some((s) => (coll === undefined ? s.name.startsWith(`${dbName}.`) : s.name === `${dbName}.${coll}`))) {
      out.push({ id, kind, found: true });
      continue;
    }
    const db = new ReadOnlyMongo(client.db(dbName), timeout);
    try {
      if (coll !== undefined) {
        if ((await db.collectionNames(coll)).includes(coll)) {
          out.push({ id, kind, found: true });
          continue;
        }
        await db.command({ count: coll });
        out.push({ id, kind, found: false, reason: "absent", detail: `MongoDB has no ${label}` });
      } else {
        if ((await db.collectionNames()).length > 0) {
          out.push({ id, kind, found: true });
          continue;
        }
        const stats = await db.command({ dbStats: 1 });
        out.push(
          Number(stats.collections ?? 0) > 0
            ? { id, kind, found: false, reason: "not_visible", detail: `the credential may read no collection of ${label}` }
            : { id, kind, found: false, reason: "absent", detail: `MongoDB has no ${label} (or it has no collections yet)` },
        );
      }
    } catch (e) {
      if (!isUnauthorized(e)) throw e;
      out.push({ id, kind, found: false, reason: "not_visible", detail: `the credential may not read ${label} (13 Unauthorized)` });
    }
  }
  return out;
}

export const mongoAdapter: SourceAdapter = {
  async healthCheck(ctx) {
    const started = performance.now();
    return withMongo(ctx, async (client) => {
      await new ReadOnlyMongo(client.db("admin"), ctx.policy.requestTimeoutMs).command({ ping: 1 });
      return ok({ latencyMs: Math.round(performance.now() - started) });
    });
  },
  async discover(ctx) {
    return withMongo(ctx, (client, t) => discoverMongo(client, t, ctx));
  },
  async sample(ctx, schema) {
    return withMongo(ctx, async (client, t) => {
      if (schema.streams.length === 0) {
        const d = await discoverMongo(client, t, ctx);
        if (!d.ok) return d;
        schema = d.value;
      }
      const budget = sampleBudget(ctx.policy);
      const streams = schema.streams.slice(0, budget);
      const perStream = streams.length ? Math.max(1, Math.ceil(budget / streams.length)) : 0;
      const records: SampleRecord[] = [];
      // the byte cap across all streams, on the cursors: documents past it are never fetched
      let bytesLeft = ctx.policy.maxResponseBytes;
      for (const s of streams) {
        const n = Math.min(perStream, budget - records.length);
        if (n <= 0 || bytesLeft <= 0) break;
        const dot = s.name.indexOf(".");
        const db = new ReadOnlyMongo(client.db(s.name.slice(0, dot)), ctx.policy.requestTimeoutMs);
        const coll = s.name.slice(dot + 1);
        const docs = await db.find(coll, {}, n, bytesLeft);
        for (const data of docs.slice(0, n)) {
          records.push({ stream: s.name, data });
          bytesLeft -= BSON.calculateObjectSize(data);
        }
      }
      return finishSample(records, ctx.policy);
    });
  },
};
