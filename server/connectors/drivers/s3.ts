/**
 * S3 and S3-compatible object stores (AWS SDK v3, any endpoint). Safe Mode lives on the client
 * itself: an initialize-step middleware lets through only ListObjectsV2, ListBuckets,
 * HeadObject, HeadBucket and GetObject with a bounded Range, and a build-step middleware only
 * GET/HEAD requests — anything else (PutObject, DeleteObject, …) is refused before it is signed
 * or sent. Discover lists objects; sample reads small ranged heads parsed like filesource.
 * An attempt (openAttempt) is one client on one keep-alive socket to the vetted address, with a
 * memo: no request is made twice (the floor's HeadBucket, listing and one GET per object).
 */
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
  type ListObjectsV2CommandOutput,
  type _Object,
} from "@aws-sdk/client-s3";
import { err, ok } from "../../lib/result";
import http from "node:http";
import https from "node:https";
import { checkDestination, pinnedLookup } from "../safe-mode/destinations";
import { bucketFor } from "../safe-mode/rate-limit";
import { finishSample, sampleBudget } from "../safe-mode/records";
import type { AttemptSource, ConnectorContext, ConnectorFailure, ConnectorResult, DiscoveredSchema, HealthInfo, NamedResourceCheck, SafetyPolicy, SampleRecord, SourceAdapter, StreamInfo } from "../types";
import { describeTabular, fileOfStream, formatOf, parseTabularMemo, ReadCache, sampleStreams, type ByteSource, type ParsedStream } from "./filesource";

export const S3_ALLOWED_COMMANDS = new Set(["ListObjectsV2Command", "ListBucketsCommand", "HeadObjectCommand", "HeadBucketCommand", "GetObjectCommand"]);

/** Thrown by the Safe Mode middleware; mapped to a `safe_mode` failure. */
export class S3SafeModeError extends Error {
  readonly kind = "safe_mode" as const;
  override name = "S3SafeModeError";
}

const MAX_OBJECT_STREAMS = 50;
const MAX_BUCKETS = 20;
const HEAD_BYTES = 256 * 1024;

/** Installs the read-only middlewares on a client (exported so tests can prove them on any client). */
export function enforceS3ReadOnly(client: S3Client, policy: Pick<SafetyPolicy, "maxResponseBytes">): S3Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? "unknown");
      if (!S3_ALLOWED_COMMANDS.has(name)) {
        throw new S3SafeModeError(`Safe Mode refused ${name.replace(/Command$/, "")}: only ListObjectsV2, ListBuckets, HeadObject, HeadBucket and ranged GetObject are allowed`);
      }
      if (name === "GetObjectCommand") {
        const range = (args.input as { Range?: string }).Range ?? "";
        const m = /^bytes=(\d+)-(\d+)$/.exec(range);
        if (!m) throw new S3SafeModeError("Safe Mode refused GetObject without a bounded Range header");
        const length = Number(m[2]) - Number(m[1]) + 1;
        if (length <= 0 || length > policy.maxResponseBytes) throw new S3SafeModeError(`Safe Mode refused a GetObject range of ${length} bytes (cap ${policy.maxResponseBytes})`);
      }
      return next(args);
    },
    { step: "initialize", name: "aamSafeModeReadOnly", priority: "high" },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      const method = String((args.request as { method?: string }).method ?? "").toUpperCase();
      if (method !== "GET" && method !== "HEAD") throw new S3SafeModeError(`Safe Mode refused an S3 ${method} request`);
      return next(args);
    },
    { step: "build", name: "aamSafeModeMethods", priority: "low" },
  );
  return client;
}

type Endpoint = { endpoint?: string; host: string; port: number; region: string; scheme?: "http:" | "https:" };

function endpointOf(ctx: ConnectorContext): ConnectorResult<Endpoint> {
  const region = typeof ctx.config.region === "string" && ctx.config.region ? ctx.config.region : "us-east-1";
  const raw = typeof ctx.config.endpoint === "string" && ctx.config.endpoint ? ctx.config.endpoint : undefined;
  if (!raw) return ok({ host: `s3.${region}.amazonaws.com`, port: 443, region, scheme: "https:" });
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return err({ kind: "other", message: "config.endpoint is not a URL" });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return err({ kind: "egress_refused", message: "config.endpoint must be http(s)" });
  return ok({ endpoint: u.origin, host: u.hostname, port: Number(u.port || (u.protocol === "https:" ? 443 : 80)), region, scheme: u.protocol === "https:" ? "https:" : "http:" });
}

/**
 * HTTP(S) agents whose sockets go to the address the trust boundary vetted (no second DNS answer
 * between the check and the connection); any other host name is vetted before it is used. TLS
 * still verifies the certificate against the host name (the request keeps its Host/SNI).
 * Keep-alive: a socket is reused only for the next request of the same client (one operation,
 * or one attempt), and it was connected through the pinned lookup; the client's destroy ends it.
 */
export function pinnedAgents(ctx: ConnectorContext, ep: Endpoint, vettedAddress: string | undefined): { httpAgent?: http.Agent; httpsAgent?: https.Agent } {
  if (!vettedAddress) return {};
  const lookup = pinnedLookup(ctx, ep.port, { host: ep.host, address: vettedAddress });
  return { httpAgent: new http.Agent({ keepAlive: true, lookup }), httpsAgent: new https.Agent({ keepAlive: true, lookup }) };
}

/** A client with Safe Mode installed; credentials only from the resolved secret (never the ambient chain). */
export function createSafeS3Client(ctx: ConnectorContext, ep: Endpoint, vettedAddress?: string): ConnectorResult<S3Client> {
  const accessKeyId = ctx.secret.access_key_id ?? ctx.secret.accessKeyId;
  const secretAccessKey = ctx.secret.secret_access_key ?? ctx.secret.secretAccessKey;
  if (!accessKeyId || !secretAccessKey) return err({ kind: "auth", message: "the secret has no access_key_id/secret_access_key" });
  const timeout = ctx.policy.requestTimeoutMs;
  const client = new S3Client({
    region: ep.region,
    endpoint: ep.endpoint,
    forcePathStyle: ctx.config.force_path_style === false ? false : !!ep.endpoint || ctx.config.force_path_style === true,
    credentials: { accessKeyId, secretAccessKey, sessionToken: ctx.secret.session_token },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 2,
    requestHandler: { connectionTimeout: timeout, requestTimeout: timeout, ...pinnedAgents(ctx, ep, vettedAddress) },
  });
  return ok(enforceS3ReadOnly(client, ctx.policy));
}

/** A kind plus S3's error code (e.g. `NoSuchBucket`) and HTTP status; the server's message text is never used. */
export function mapS3Error(e: unknown): ConnectorFailure {
  if (e instanceof S3SafeModeError) return { kind: "safe_mode", message: e.message };
  const x = e as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number }; cause?: { code?: unknown } };
  const name = typeof x?.name === "string" && /^[A-Za-z0-9._-]{1,64}$/.test(x.name) ? x.name : "";
  const rawCode = typeof x?.code === "string" ? x.code : typeof x?.cause?.code === "string" ? x.cause.code : "";
  const code = /^[A-Z0-9_]{1,40}$/.test(rawCode) ? rawCode : "";
  const status = typeof x?.$metadata?.httpStatusCode === "number" ? x.$metadata.httpStatusCode : undefined;
  const msg = typeof x?.message === "string" ? x.message : "";
  const tag = [name && name !== "Error" ? name : "", status ? `HTTP ${status}` : "", code].filter(Boolean).join(", ");
  const suffix = tag ? ` (${tag})` : "";
  if (["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken", "AllAccessDisabled"].includes(name) || status === 401 || status === 403) {
    return { kind: "auth", message: `the object store refused the credentials or access${suffix}` };
  }
  if (name === "SlowDown" || status === 429 || status === 503) return { kind: "rate_limited", message: `the object store asked to slow down${suffix}` };
  if (name === "AbortError" || name === "TimeoutError" || name === "RequestTimeout" || code === "ETIMEDOUT" || /timed? ?out/i.test(msg)) {
    return { kind: "timeout", message: `the object store did not answer within the Safe Mode timeout${suffix}` };
  }
  if (["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EAI_AGAIN", "EPIPE"].includes(code) || /ECONNREFUSED|ENOTFOUND|socket hang up/.test(msg)) {
    return { kind: "network", message: `network error reaching the object store${suffix}` };
  }
  // a 200 the SDK could not read as the S3 API's documented XML answer: whatever answered is not an S3 store
  if (status === 200) return { kind: "other", message: `the far side answered HTTP 200 with something other than the S3 API's documented XML${suffix}: not the vendor's API` };
  return { kind: "other", message: `object store error${suffix}` };
}

type Target = { bucket: string; prefix: string };

function targetsOf(ctx: ConnectorContext): Target[] {
  const out: Target[] = [];
  const add = (s: string) => {
    const clean = s.replace(/^s3:\/\//, "");
    const slash = clean.indexOf("/");
    out.push(slash === -1 ? { bucket: clean, prefix: "" } : { bucket: clean.slice(0, slash), prefix: clean.slice(slash + 1) });
  };
  for (const r of ctx.resourceIds) add(r);
  if (out.length === 0 && typeof ctx.config.bucket === "string" && ctx.config.bucket) add(`${ctx.config.bucket}/${typeof ctx.config.prefix === "string" ? ctx.config.prefix : ""}`);
  return out;
}

/**
 * What one session (one operation, or one attempt's health check, discovery and sample) already
 * asked the store: each answer is asked for once. Listings and HeadBucket answers by their exact
 * request; object sizes from discovery's listing; the bytes read (ReadCache, bounded).
 */
type S3Memo = {
  buckets: Map<string, NamedResourceCheck>;
  listings: Map<string, ListObjectsV2CommandOutput>;
  bucketList?: Target[];
  sizes: Map<string, number>;
  bytes: ReadCache;
  discovered?: DiscoveredSchema;
};

type S3Session = { client: S3Client; send: S3Client["send"]; ctx: ConnectorContext; memo: S3Memo };

const STOPPED: ConnectorFailure = { kind: "network", message: "the attempt was stopped; the object store session was closed" };

/** A failure in words: an aborted attempt is "stopped", not the store's error. */
const failureOf = (ctx: ConnectorContext, e: unknown): ConnectorFailure => (ctx.signal?.aborted ? STOPPED : mapS3Error(e));

/**
 * Egress check, then a Safe Mode client on the vetted address, with one memo. An aborted
 * `ctx.signal` destroys the client at once (its agents' sockets: whatever is in flight fails,
 * and every later request is refused before it connects); `close` is idempotent.
 */
async function openS3(ctx: ConnectorContext): Promise<ConnectorResult<{ session: S3Session; close: () => Promise<void> }>> {
  const ep = endpointOf(ctx);
  if (!ep.ok) return ep;
  const egress = await checkDestination(ctx, ep.value.host, ep.value.port, ep.value.scheme);
  if (!egress.ok) return egress;
  if (ctx.signal?.aborted) return err(STOPPED);
  const c = createSafeS3Client(ctx, ep.value, egress.value.addresses.find((a) => !a.includes(":")) ?? egress.value.address);
  if (!c.ok) return c;
  const client = c.value;
  const memo: S3Memo = { buckets: new Map(), listings: new Map(), sizes: new Map(), bytes: new ReadCache() };
  const signal = ctx.signal;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener("abort", onAbort);
    client.destroy();
    memo.bytes.clear();
  };
  const onAbort = () => void close();
  signal?.addEventListener("abort", onAbort, { once: true });
  const send = ((command: Parameters<S3Client["send"]>[0], options?: { abortSignal?: AbortSignal }) => {
    if (closed) return Promise.reject(Object.assign(new Error("the object store session is closed"), { name: "AbortError" }));
    const timeout = AbortSignal.timeout(ctx.policy.requestTimeoutMs);
    return client.send(command, { abortSignal: signal ? AbortSignal.any([timeout, signal]) : timeout, ...options });
  }) as S3Client["send"];
  return ok({ session: { client, send, ctx, memo }, close });
}

/** One stage: the per-connection rate cap, then `fn`; an SDK error is a failure in words. */
async function stageOf<T>(s: S3Session, fn: (s: S3Session) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  if (!(await bucketFor(s.ctx.connectionId, s.ctx.policy.ratePerMinute).take(s.ctx.policy.requestTimeoutMs))) {
    return err({ kind: "rate_limited", message: "the per-connection rate cap is exhausted" });
  }
  try {
    const r = await fn(s);
    // an aborted session's reads failed: discovery and sample skip a failed object, the stage still fails
    return s.ctx.signal?.aborted ? err(STOPPED) : r;
  } catch (e) {
    return err(failureOf(s.ctx, e));
  }
}

/** Egress check + rate cap, then a Safe Mode client for one operation; always destroyed. */
async function withS3<T>(ctx: ConnectorContext, fn: (s: S3Session) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  const opened = await openS3(ctx);
  if (!opened.ok) return opened;
  try {
    return await stageOf(opened.value.session, fn);
  } finally {
    await opened.value.close();
  }
}

/**
 * Reads at most `max` bytes of a GetObject body and then closes it: a server that ignores the
 * Range header (and sends the whole object) is never read past the cap. `declaredLength`: the
 * answer's Content-Length; when it is within the cap, a body that reaches the cap is read to its
 * end (the HTTP parser stops at Content-Length: not one byte more) so the keep-alive socket
 * stays usable instead of being destroyed with a body cut short.
 */
export async function readBodyCapped(body: unknown, max: number, declaredLength?: number): Promise<Uint8Array> {
  if (!body || max <= 0) {
    (body as { destroy?: () => void } | undefined)?.destroy?.();
    return new Uint8Array(0);
  }
  const iterable = body as AsyncIterable<Uint8Array> & { destroy?: () => void };
  if (typeof iterable[Symbol.asyncIterator] !== "function") {
    // not a Node stream (a runtime without one): the SDK's own reader, then the cut
    const all = (await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()) ?? new Uint8Array(0);
    return all.subarray(0, max);
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  const bounded = typeof declaredLength === "number" && declaredLength >= 0 && declaredLength <= max;
  try {
    for await (const chunk of iterable) {
      const take = Math.min(chunk.byteLength, max - n);
      chunks.push(take === chunk.byteLength ? chunk : chunk.subarray(0, take));
      n += take;
      // leaving the loop destroys the stream: the rest is never read (nor kept)
      if (take < chunk.byteLength || (n >= max && !bounded)) break;
    }
  } finally {
    // after the body's end this frees nothing more (the agent already has the socket back)
    iterable.destroy?.();
  }
  return Buffer.concat(chunks, n);
}

/** Ranged GETs of one object, each range read once per session (the memo's ReadCache). */
function objectSource(s: S3Session, bucket: string, key: string, size: number): ByteSource {
  return s.memo.bytes.wrap(`${bucket}/${key}`, {
    size,
    read: async (start, end) => {
      if (end <= start) return new Uint8Array(0);
      const r = await s.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
      // a server ignoring Range must not lift the cap, nor be read in full
      return readBodyCapped(r.Body, end - start, r.ContentLength);
    },
  });
}

/** One ListObjectsV2 page, asked once per session for the same bucket, prefix and page size. */
async function listObjects(s: S3Session, bucket: string, prefix: string, maxKeys: number): Promise<ListObjectsV2CommandOutput> {
  const id = JSON.stringify([bucket, prefix, maxKeys]);
  const known = s.memo.listings.get(id);
  if (known) return known;
  const r = await s.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, MaxKeys: maxKeys }));
  s.memo.listings.set(id, r);
  return r;
}

async function listTarget(s: S3Session, t: Target, maxKeys: number): Promise<_Object[]> {
  const r = await listObjects(s, t.bucket, t.prefix, maxKeys);
  return (r.Contents ?? []).filter((o) => o.Key && !o.Key.endsWith("/"));
}

/** The buckets (ListBuckets, once per session) when no bucket is named. */
async function listBuckets(s: S3Session): Promise<Target[]> {
  if (s.memo.bucketList) return s.memo.bucketList;
  const r = await s.send(new ListBucketsCommand({}));
  s.memo.bucketList = (r.Buckets ?? []).slice(0, MAX_BUCKETS).flatMap((b) => (b.Name ? [{ bucket: b.Name, prefix: "" }] : []));
  return s.memo.bucketList;
}

async function resolveTargets(s: S3Session): Promise<Target[]> {
  const t = targetsOf(s.ctx);
  return t.length ? t : listBuckets(s);
}

const INVENTORY_FIELDS = [
  { name: "key", type: "string", nullable: false },
  { name: "size", type: "integer", nullable: false },
  { name: "last_modified", type: "date-time", nullable: true },
  { name: "etag", type: "string", nullable: true },
  { name: "content_type", type: "string", nullable: true },
];

/** `bucket/prefix/` (trailing slash) is the object inventory of a prefix; `bucket/key` is one object. */
const inventoryName = (t: Target) => `${t.bucket}/${t.prefix && !t.prefix.endsWith("/") ? `${t.prefix}/` : t.prefix}`;
const splitName = (name: string) => ({ bucket: name.slice(0, name.indexOf("/")), key: name.slice(name.indexOf("/") + 1) });

/** HTTP status of an SDK error (HeadBucket answers without a body: NotFound / Forbidden). */
const statusOf = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/**
 * A named bucket the store answered 404 or 403 for: reported by discovery in words, not a failure
 * of the whole source. HeadBucket is asked once per session (the health check's answer serves discovery).
 */
async function checkBucket(s: S3Session, bucket: string): Promise<NamedResourceCheck> {
  const known = s.memo.buckets.get(bucket);
  if (known) return known;
  const check = await headBucket(s, bucket);
  s.memo.buckets.set(bucket, check);
  return check;
}

async function headBucket(s: S3Session, bucket: string): Promise<NamedResourceCheck> {
  try {
    await s.send(new HeadBucketCommand({ Bucket: bucket }));
    return { id: bucket, kind: "bucket", found: true };
  } catch (e) {
    const status = statusOf(e);
    const name = (e as { name?: string })?.name;
    if (status === 404 || name === "NotFound" || name === "NoSuchBucket") return { id: bucket, kind: "bucket", found: false, reason: "absent", detail: "the object store has no such bucket" };
    if (status === 403 || name === "Forbidden" || name === "AccessDenied") return { id: bucket, kind: "bucket", found: false, reason: "not_visible", detail: "the credential may not read this bucket" };
    throw e;
  }
}

async function discoverS3(s: S3Session): Promise<ConnectorResult<DiscoveredSchema>> {
  const streams: StreamInfo[] = [];
  let objectStreams = 0;
  const named = targetsOf(s.ctx);
  const checks = new Map<string, NamedResourceCheck>();
  for (const b of new Set(named.map((t) => t.bucket))) checks.set(b, await checkBucket(s, b));
  for (const t of await resolveTargets(s)) {
    if (checks.get(t.bucket)?.found === false) continue;
    streams.push({ name: inventoryName(t), fields: INVENTORY_FIELDS });
    for (const o of await listTarget(s, t, 1000)) {
      const key = o.Key!;
      const format = formatOf(key);
      if (!format || objectStreams >= MAX_OBJECT_STREAMS) continue;
      objectStreams++;
      const name = `${t.bucket}/${key}`;
      s.memo.sizes.set(name, o.Size ?? 0);
      const cap = format === "json" ? s.ctx.policy.maxResponseBytes : Math.min(HEAD_BYTES, s.ctx.policy.maxResponseBytes);
      const d = await describeTabular(objectSource(s, t.bucket, key, o.Size ?? 0), format, name, cap, { cache: s.memo.bytes, id: name });
      if (d.ok) streams.push(...d.value);
      else if (d.error.kind === "safe_mode") return d;
      else streams.push({ name, fields: [] });
    }
  }
  const resources = [...checks.values()];
  const schema: DiscoveredSchema = { streams, ...(named.length ? { resources } : {}) };
  s.memo.discovered = schema;
  return ok(schema);
}

async function s3Health(s: S3Session, started: number): Promise<ConnectorResult<HealthInfo>> {
  const targets = targetsOf(s.ctx);
  // a named bucket that is missing or hidden is discovery's finding (named in words), not an unreachable store
  if (targets.length) {
    for (const t of new Set(targets.map((x) => x.bucket))) {
      // 404: the store answered as S3 and discovery reports the bucket; 403: the credential is refused, in words
      const b = await checkBucket(s, t);
      if (b.reason === "not_visible") return err({ kind: "auth", message: `the object store refused the credentials or access to bucket "${t}"` });
      if (b.found) {
        // HeadBucket has no body: a listing (keys only, no contents) proves the far side is an S3 store (ListBucketResult
        // names the bucket). One untruncated page, as discovery reads (the same request: discovery reuses it): s3rver
        // cannot issue continuation tokens on Node ≥ 17.
        const listed = await listObjects(s, t, targets.find((x) => x.bucket === t)?.prefix ?? "", 1000);
        if (listed.Name !== t) return err({ kind: "other", message: `the far side did not answer ListObjectsV2 for bucket "${t}" as the S3 API documents (ListBucketResult Name is ${listed.Name === undefined ? "missing" : JSON.stringify(listed.Name)}): not the vendor's API` });
      }
    }
  } else await listBuckets(s);
  return ok({ latencyMs: Math.round(performance.now() - started), detail: targets.length ? `${targets.length} bucket target(s) listable` : "buckets listable" });
}

/**
 * The bounded read. No streams: what this session's discovery found (discovering only if it did
 * not run). An object discovery listed is not HEADed again (its size is the listing's) and the
 * bytes discovery read serve the parse (the memo's ReadCache): no range is read twice.
 */
async function sampleS3(s: S3Session, schema: DiscoveredSchema): Promise<ConnectorResult<SampleRecord[]>> {
  const ctx = s.ctx;
  let names = schema.streams.map((x) => x.name);
  if (names.length === 0) {
    const d = s.memo.discovered ? ok(s.memo.discovered) : await discoverS3(s);
    if (!d.ok) return d;
    names = d.value.streams.map((x) => x.name);
  }
  // Object contents first: the inventory only fills what the budget leaves.
  names = [...names.filter((n) => !n.endsWith("/")), ...names.filter((n) => n.endsWith("/"))];
  const sampled = await sampleStreams(names, sampleBudget(ctx.policy), async (name, limit): Promise<ConnectorResult<ParsedStream[]>> => {
    const { bucket, key } = splitName(name);
    if (name.endsWith("/")) {
      // One full page, cut here: s3rver cannot issue continuation tokens on Node ≥ 17 (legacy cipher).
      const objects = await listTarget(s, { bucket, prefix: key }, 1000);
      return ok([{ stream: name, rows: objects.slice(0, limit).map((o) => ({ key: o.Key, size: o.Size, last_modified: o.LastModified, etag: o.ETag })) }]);
    }
    const objectKey = fileOfStream(key);
    const format = formatOf(objectKey);
    if (!format) return err({ kind: "unsupported", message: `${name}: unsupported object type` });
    const size = s.memo.sizes.get(`${bucket}/${objectKey}`) ?? (await s.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey }))).ContentLength ?? 0;
    const id = `${bucket}/${objectKey}`;
    return parseTabularMemo({ cache: s.memo.bytes, id }, objectSource(s, bucket, objectKey, size), format, id, { limit, maxBytes: ctx.policy.maxResponseBytes });
  });
  return sampled.ok ? finishSample(sampled.value, ctx.policy) : sampled;
}

export const s3Adapter: SourceAdapter = {
  async healthCheck(ctx) {
    const started = performance.now();
    return withS3(ctx, (s) => s3Health(s, started));
  },

  async discover(ctx) {
    return withS3(ctx, discoverS3);
  },

  async sample(ctx, schema) {
    return withS3(ctx, (s) => sampleS3(s, schema));
  },

  /**
   * One Safe Mode client (one keep-alive socket to the vetted address) for the attempt's health
   * check, discovery and sample, with one memo: HeadBucket and the listing the health check made
   * serve discovery, discovery's listing and reads serve the sample. Destroyed on close and at
   * once when `ctx.signal` aborts.
   */
  async openAttempt(ctx): Promise<ConnectorResult<AttemptSource>> {
    let since: number | undefined = performance.now(); // the first health check's latency includes opening
    const opened = await openS3(ctx);
    if (!opened.ok) return opened;
    const { session, close } = opened.value;
    let closed = false;
    const stage = <T>(fn: (s: S3Session) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> =>
      closed || ctx.signal?.aborted ? Promise.resolve(err(STOPPED)) : stageOf(session, fn);
    return ok({
      healthCheck: () =>
        stage((s) => {
          const from = since ?? performance.now();
          since = undefined;
          return s3Health(s, from);
        }),
      discover: () => stage(discoverS3),
      sample: (schema) => stage((s) => sampleS3(s, schema)),
      close: async () => {
        closed = true;
        await close();
      },
    });
  },
};
