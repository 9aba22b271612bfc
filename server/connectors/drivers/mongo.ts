/**
 * MongoDB driver: listCollections + find with a limit under a read preference. Every database
 * call goes through `ReadOnlyMongo`, which only knows read commands and refuses writes ($out /
 * $merge stages, server-side JavaScript, any non-read command) before anything is sent.
 * No mongod is available offline: integration coverage is limited to what needs no server.
 */
import { resolveSrv } from "node:dns/promises";
import { MongoClient, type Db, type Document, type ReadPreferenceMode } from "mongodb";
import { err, ok } from "../../lib/result";
import { checkDestination } from "../safe-mode/destinations";
import { bucketFor } from "../safe-mode/rate-limit";
import { finishSample, sampleBudget } from "../safe-mode/records";
import type { ConnectorContext, ConnectorFailure, ConnectorResult, DiscoveredSchema, FieldInfo, SampleRecord, SourceAdapter, StreamInfo } from "../types";
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

  async find(collection: string, filter: Document, limit: number): Promise<Document[]> {
    const why = checkMongoReadOnly(filter);
    if (why) throw new MongoSafeModeError(`Safe Mode refused the filter: ${why}`);
    if (limit <= 0) return [];
    return this.db.collection(collection).find(filter, { limit, batchSize: limit, maxTimeMS: this.maxTimeMS }).toArray();
  }

  async aggregate(collection: string, pipeline: Document[], limit: number): Promise<Document[]> {
    const why = checkMongoReadOnly(pipeline);
    if (why) throw new MongoSafeModeError(`Safe Mode refused the pipeline: ${why}`);
    if (limit <= 0) return [];
    return this.db.collection(collection).aggregate([...pipeline, { $limit: limit }], { maxTimeMS: this.maxTimeMS, batchSize: limit }).toArray();
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

export function mapMongoError(e: unknown): ConnectorFailure {
  if (e instanceof MongoSafeModeError) return { kind: "safe_mode", message: e.message };
  const x = e as { name?: string; code?: number; codeName?: string; message?: string };
  const message = String(x?.message ?? e).slice(0, 300);
  if (x?.code === 18 || x?.code === 13 || x?.codeName === "AuthenticationFailed" || x?.codeName === "Unauthorized" || /authentication failed/i.test(message)) {
    return { kind: "auth", message: `authentication failed: ${message}` };
  }
  if (x?.code === 50 || x?.codeName === "MaxTimeMSExpired" || x?.name === "MongoNetworkTimeoutError" || x?.name === "MongoOperationTimeoutError") {
    return { kind: "timeout", message: `timed out: ${message}` };
  }
  if (x?.name === "MongoServerSelectionError" || x?.name === "MongoNetworkError" || x?.name === "MongoTopologyClosedError") {
    return /timed out/i.test(message) && !/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|getaddrinfo/.test(message)
      ? { kind: "timeout", message: `timed out: ${message}` }
      : { kind: "network", message: `network error: ${message}` };
  }
  if (x?.name === "MongoParseError" || x?.name === "MongoInvalidArgumentError") return { kind: "other", message };
  return { kind: "other", message };
}

const READ_PREFERENCES = new Set(["primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"]);

/** Precheck (before any network) of the caller-supplied filter/pipeline. */
function precheck(ctx: ConnectorContext): ConnectorResult<void> {
  for (const key of ["sample_filter", "sample_pipeline"] as const) {
    const why = ctx.config[key] === undefined ? undefined : checkMongoReadOnly(ctx.config[key]);
    if (why) return err({ kind: "safe_mode", message: `Safe Mode refused config.${key}: ${why}` });
  }
  return ok(undefined);
}

async function withMongo<T>(ctx: ConnectorContext, fn: (client: MongoClient, t: MongoTarget) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  const pre = precheck(ctx);
  if (!pre.ok) return pre;
  const target = buildMongoUrl(ctx);
  if (!target.ok) return target;
  const t = target.value;
  const hosts = [...t.hosts];
  if (t.srv) {
    try {
      const records = await resolveSrv(`_mongodb._tcp.${t.hosts[0]!.host}`);
      hosts.push(...records.map((r) => ({ host: r.name, port: r.port })));
    } catch {
      return err({ kind: "network", message: `could not resolve the SRV record of ${t.hosts[0]!.host}` });
    }
  }
  for (const h of hosts) {
    const e = await checkDestination(ctx, h.host, h.port);
    if (!e.ok) return e;
  }
  if (!(await bucketFor(ctx.connectionId, ctx.policy.ratePerMinute).take(ctx.policy.requestTimeoutMs))) {
    return err({ kind: "rate_limited", message: "the per-connection rate cap is exhausted" });
  }
  const timeout = ctx.policy.requestTimeoutMs;
  const pref = typeof ctx.config.read_preference === "string" && READ_PREFERENCES.has(ctx.config.read_preference) ? ctx.config.read_preference : "secondaryPreferred";
  const client = new MongoClient(t.url, {
    readPreference: pref as ReadPreferenceMode,
    serverSelectionTimeoutMS: timeout,
    connectTimeoutMS: timeout,
    socketTimeoutMS: timeout,
    maxPoolSize: 1,
    retryWrites: false,
    appName: "aam-safe-mode",
  });
  try {
    await client.connect();
    return await fn(client, t);
  } catch (e) {
    return err(mapMongoError(e));
  } finally {
    await client.close().catch(() => undefined);
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
    for (const c of await db.listCollections(MAX_COLLECTIONS - streams.length)) {
      const name = `${dbName}.${c.name}`;
      if (ctx.resourceIds.length && !ctx.resourceIds.some((r) => r === name || r === c.name || r === dbName)) continue;
      // Field names come from the validator, else from a few documents; no document leaves discover.
      const fields = fieldsFromValidator(c.options) ?? inferFields((await db.find(c.name, {}, 5)) as Record<string, unknown>[]);
      streams.push({ name, fields });
    }
  }
  return ok({ streams });
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
      const filter = (ctx.config.sample_filter ?? {}) as Document;
      const pipeline = Array.isArray(ctx.config.sample_pipeline) ? (ctx.config.sample_pipeline as Document[]) : undefined;
      const records: SampleRecord[] = [];
      for (const s of streams) {
        const n = Math.min(perStream, budget - records.length);
        if (n <= 0) break;
        const dot = s.name.indexOf(".");
        const db = new ReadOnlyMongo(client.db(s.name.slice(0, dot)), ctx.policy.requestTimeoutMs);
        const coll = s.name.slice(dot + 1);
        const docs = pipeline ? await db.aggregate(coll, pipeline, n) : await db.find(coll, filter, n);
        for (const data of docs.slice(0, n)) records.push({ stream: s.name, data });
      }
      return finishSample(records, ctx.policy);
    });
  },
};
