/**
 * S3 and S3-compatible object stores (AWS SDK v3, any endpoint). Safe Mode lives on the client
 * itself: an initialize-step middleware lets through only ListObjectsV2, ListBuckets,
 * HeadObject, HeadBucket and GetObject with a bounded Range, and a build-step middleware only
 * GET/HEAD requests — anything else (PutObject, DeleteObject, …) is refused before it is signed
 * or sent. Discover lists objects; sample reads small ranged heads parsed like filesource.
 */
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
  type _Object,
} from "@aws-sdk/client-s3";
import { err, ok } from "../../lib/result";
import http from "node:http";
import https from "node:https";
import { checkDestination, pinnedLookup } from "../safe-mode/destinations";
import { bucketFor } from "../safe-mode/rate-limit";
import { finishSample, sampleBudget } from "../safe-mode/records";
import type { ConnectorContext, ConnectorFailure, ConnectorResult, DiscoveredSchema, NamedResourceCheck, SafetyPolicy, SourceAdapter, StreamInfo } from "../types";
import { describeTabular, fileOfStream, formatOf, parseTabular, sampleStreams, type ByteSource, type ParsedStream } from "./filesource";

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

type Endpoint = { endpoint?: string; host: string; port: number; region: string };

function endpointOf(ctx: ConnectorContext): ConnectorResult<Endpoint> {
  const region = typeof ctx.config.region === "string" && ctx.config.region ? ctx.config.region : "us-east-1";
  const raw = typeof ctx.config.endpoint === "string" && ctx.config.endpoint ? ctx.config.endpoint : undefined;
  if (!raw) return ok({ host: `s3.${region}.amazonaws.com`, port: 443, region });
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return err({ kind: "other", message: "config.endpoint is not a URL" });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return err({ kind: "egress_refused", message: "config.endpoint must be http(s)" });
  return ok({ endpoint: u.origin, host: u.hostname, port: Number(u.port || (u.protocol === "https:" ? 443 : 80)), region });
}

/**
 * HTTP(S) agents whose sockets go to the address the trust boundary vetted (no second DNS answer
 * between the check and the connection); any other host name is vetted before it is used. TLS
 * still verifies the certificate against the host name (the request keeps its Host/SNI).
 */
export function pinnedAgents(ctx: ConnectorContext, ep: Endpoint, vettedAddress: string | undefined): { httpAgent?: http.Agent; httpsAgent?: https.Agent } {
  if (!vettedAddress) return {};
  const lookup = pinnedLookup(ctx, ep.port, { host: ep.host, address: vettedAddress });
  return { httpAgent: new http.Agent({ keepAlive: false, lookup }), httpsAgent: new https.Agent({ keepAlive: false, lookup }) };
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

type S3Session = { client: S3Client; send: S3Client["send"]; ctx: ConnectorContext };

/** Egress check + rate cap, then a Safe Mode client for one operation; always destroyed. */
async function withS3<T>(ctx: ConnectorContext, fn: (s: S3Session) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  const ep = endpointOf(ctx);
  if (!ep.ok) return ep;
  const egress = await checkDestination(ctx, ep.value.host, ep.value.port);
  if (!egress.ok) return egress;
  if (!(await bucketFor(ctx.connectionId, ctx.policy.ratePerMinute).take(ctx.policy.requestTimeoutMs))) {
    return err({ kind: "rate_limited", message: "the per-connection rate cap is exhausted" });
  }
  const c = createSafeS3Client(ctx, ep.value, egress.value.addresses.find((a) => !a.includes(":")) ?? egress.value.address);
  if (!c.ok) return c;
  const client = c.value;
  const send = ((command: Parameters<S3Client["send"]>[0], options?: { abortSignal?: AbortSignal }) =>
    client.send(command, { abortSignal: AbortSignal.timeout(ctx.policy.requestTimeoutMs), ...options })) as S3Client["send"];
  try {
    return await fn({ client, send, ctx });
  } catch (e) {
    return err(mapS3Error(e));
  } finally {
    client.destroy();
  }
}

/**
 * Reads at most `max` bytes of a GetObject body and then closes it: a server that ignores the
 * Range header (and sends the whole object) is never read past the cap.
 */
export async function readBodyCapped(body: unknown, max: number): Promise<Uint8Array> {
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
  try {
    for await (const chunk of iterable) {
      const take = Math.min(chunk.byteLength, max - n);
      chunks.push(take === chunk.byteLength ? chunk : chunk.subarray(0, take));
      n += take;
      if (n >= max) break; // leaving the loop destroys the stream: the rest is never read
    }
  } finally {
    iterable.destroy?.();
  }
  return Buffer.concat(chunks, n);
}

function objectSource(s: S3Session, bucket: string, key: string, size: number): ByteSource {
  return {
    size,
    read: async (start, end) => {
      if (end <= start) return new Uint8Array(0);
      const r = await s.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
      // a server ignoring Range must not lift the cap, nor be read in full
      return readBodyCapped(r.Body, end - start);
    },
  };
}

async function listTarget(s: S3Session, t: Target, maxKeys: number): Promise<_Object[]> {
  const r = await s.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: t.prefix || undefined, MaxKeys: maxKeys }));
  return (r.Contents ?? []).filter((o) => o.Key && !o.Key.endsWith("/"));
}

async function resolveTargets(s: S3Session): Promise<Target[]> {
  const t = targetsOf(s.ctx);
  if (t.length) return t;
  const r = await s.send(new ListBucketsCommand({}));
  return (r.Buckets ?? []).slice(0, MAX_BUCKETS).flatMap((b) => (b.Name ? [{ bucket: b.Name, prefix: "" }] : []));
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

/** A named bucket the store answered 404 or 403 for: reported by discovery in words, not a failure of the whole source. */
async function checkBucket(s: S3Session, bucket: string): Promise<NamedResourceCheck> {
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
      const cap = format === "json" ? s.ctx.policy.maxResponseBytes : Math.min(HEAD_BYTES, s.ctx.policy.maxResponseBytes);
      const d = await describeTabular(objectSource(s, t.bucket, key, o.Size ?? 0), format, name, cap);
      if (d.ok) streams.push(...d.value);
      else if (d.error.kind === "safe_mode") return d;
      else streams.push({ name, fields: [] });
    }
  }
  const resources = [...checks.values()];
  return ok({ streams, ...(named.length ? { resources } : {}) });
}

export const s3Adapter: SourceAdapter = {
  async healthCheck(ctx) {
    const started = performance.now();
    return withS3(ctx, async (s) => {
      const targets = targetsOf(ctx);
      // a named bucket that is missing or hidden is discovery's finding (named in words), not an unreachable store
      if (targets.length) {
        for (const t of new Set(targets.map((x) => x.bucket))) {
          // 404: the store answered as S3 and discovery reports the bucket; 403: the credential is refused, in words
          const b = await checkBucket(s, t);
          if (b.reason === "not_visible") return err({ kind: "auth", message: `the object store refused the credentials or access to bucket "${t}"` });
          if (b.found) {
            // HeadBucket has no body: a listing (keys only, no contents) proves the far side is an S3 store (ListBucketResult
            // names the bucket). One untruncated page, as discovery reads: s3rver cannot issue continuation tokens on Node ≥ 17.
            const listed = await s.send(new ListObjectsV2Command({ Bucket: t, Prefix: targets.find((x) => x.bucket === t)?.prefix || undefined, MaxKeys: 1000 }));
            if (listed.Name !== t) return err({ kind: "other", message: `the far side did not answer ListObjectsV2 for bucket "${t}" as the S3 API documents (ListBucketResult Name is ${listed.Name === undefined ? "missing" : JSON.stringify(listed.Name)}): not the vendor's API` });
          }
        }
      }
      else await s.send(new ListBucketsCommand({}));
      return ok({ latencyMs: Math.round(performance.now() - started), detail: targets.length ? `${targets.length} bucket target(s) listable` : "buckets listable" });
    });
  },

  async discover(ctx) {
    return withS3(ctx, discoverS3);
  },

  async sample(ctx, schema) {
    return withS3(ctx, async (s) => {
      let names = schema.streams.map((x) => x.name);
      if (names.length === 0) {
        const d = await discoverS3(s);
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
        const head = await s.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey }));
        return parseTabular(objectSource(s, bucket, objectKey, head.ContentLength ?? 0), format, `${bucket}/${objectKey}`, { limit, maxBytes: ctx.policy.maxResponseBytes });
      });
      return sampled.ok ? finishSample(sampled.value, ctx.policy) : sampled;
    });
  },
};
