/**
 * Local folder source. The root is `config.root` (or a `file://` URL), which must be inside one of
 * the tenant's approved folders (safe-mode/destinations.ts checkFolderReal, on realpaths); without
 * a root, or with a relative one, the root is the (single) approved folder of this source type.
 * The app's data folder and system folders (/etc …) are refused whatever the settings. Resource
 * ids are files or folders relative to the root. Confinement: `..`, absolute paths and symlinks
 * resolving outside the root are refused (safe_mode), and every file's realpath is checked
 * against the grant again; reads are capped at the response byte cap. A session (one operation,
 * or one attempt: openAttempt) resolves the grant and the root once, lists and confines once, and
 * reads each file's bytes once (the opened file must be the one confinement checked).
 *
 * Also owns the tabular parsing (CSV/TSV, JSON, NDJSON, Parquet via hyparquet) the S3 driver
 * reuses through `ByteSource`.
 */
import { constants as fsc } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseCsv } from "csv-parse/sync";
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer } from "hyparquet";
import { err, ok } from "../../lib/result";
import { folderCheckReal, isInside, type BoundFolderCheck } from "../safe-mode/destinations";
import { finishSample, sampleBudget } from "../safe-mode/records";
import type { AttemptSource, ConnectorContext, ConnectorFailure, ConnectorResult, DiscoveredSchema, FieldInfo, HealthInfo, NamedResourceCheck, SampleRecord, SourceAdapter, StreamInfo } from "../types";

export type FileFormat = "csv" | "tsv" | "json" | "ndjson" | "parquet";

export function formatOf(name: string): FileFormat | undefined {
  const ext = path.extname(name).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".tsv") return "tsv";
  if (ext === ".json") return "json";
  if (ext === ".ndjson" || ext === ".jsonl") return "ndjson";
  if (ext === ".parquet") return "parquet";
  return undefined;
}

/** Random access to the bytes of one file or object; `end` is exclusive. */
export type ByteSource = { size: number; read(start: number, end: number): Promise<Uint8Array> };

/** Bytes one attempt session keeps at most (all files or objects together); past it, reads are not kept. */
export const SESSION_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * What one attempt session already read, per file or object: a read that lies inside a kept
 * range is served from memory, so discovery's reads serve the sample (no byte is read twice).
 * Bounded by `maxBytes` in total; `clear` drops everything (the session's close).
 */
export class ReadCache {
  private readonly kept = new Map<string, { start: number; bytes: Uint8Array }[]>();
  private total = 0;
  /** reads that went to the source, and reads served from memory (what the tests count) */
  readonly stats = { misses: 0, hits: 0 };
  constructor(private readonly maxBytes = SESSION_CACHE_BYTES) {}

  get(id: string, start: number, end: number): Uint8Array | undefined {
    for (const r of this.kept.get(id) ?? []) {
      if (start >= r.start && end <= r.start + r.bytes.byteLength) return r.bytes.subarray(start - r.start, end - r.start);
    }
    return undefined;
  }

  put(id: string, start: number, bytes: Uint8Array): void {
    if (bytes.byteLength === 0 || this.total + bytes.byteLength > this.maxBytes) return;
    this.total += bytes.byteLength;
    const list = this.kept.get(id) ?? [];
    list.push({ start, bytes });
    this.kept.set(id, list);
  }

  /** `src` with this cache in front of it (keyed by `id`). */
  wrap(id: string, src: ByteSource): ByteSource {
    return {
      size: src.size,
      read: async (start, end) => {
        if (end <= start) return new Uint8Array(0);
        const hit = this.get(id, start, end);
        if (hit) {
          this.stats.hits++;
          return hit;
        }
        this.stats.misses++;
        const bytes = await src.read(start, end);
        this.put(id, start, bytes);
        return bytes;
      },
    };
  }

  /** rows discovery parsed (per source, format and stream), for a sample that would parse the same bytes again */
  readonly parses = new Map<string, { limit: number; maxBytes: number; value: ParsedStream[] }>();

  clear(): void {
    this.kept.clear();
    this.parses.clear();
    this.total = 0;
  }
}

/** Where a session keeps what it parsed of one source (`id`: the file's realpath, the object's bucket/key). */
export type ParseMemo = { cache: ReadCache; id: string };

/**
 * parseTabular, with the rows a session already parsed of the same bytes reused: a successful
 * parse of `limit` rows serves any smaller limit when both read the same bytes (the same cap, or
 * a source within both caps, so the whole of it). Parquet is always parsed (its reads depend on
 * the rows asked for). Only a parse of bytes the session kept is remembered.
 */
export async function parseTabularMemo(
  memo: ParseMemo | undefined,
  src: ByteSource,
  format: FileFormat,
  stream: string,
  opts: { limit: number; maxBytes: number; withFields?: boolean },
): Promise<ConnectorResult<ParsedStream[]>> {
  if (!memo || format === "parquet") return parseTabular(src, format, stream, opts);
  const key = JSON.stringify([memo.id, format, stream]);
  const known = memo.cache.parses.get(key);
  const sameBytes = known && (known.maxBytes === opts.maxBytes || src.size <= Math.min(known.maxBytes, opts.maxBytes));
  if (known && sameBytes && opts.limit <= known.limit && !opts.withFields) {
    const limit = Math.max(0, opts.limit);
    return ok(known.value.map((p) => ({ stream: p.stream, rows: p.rows.slice(0, limit) })));
  }
  const parsed = await parseTabular(src, format, stream, opts);
  if (parsed.ok && (src.size === 0 || memo.cache.get(memo.id, 0, Math.min(1, src.size)))) {
    memo.cache.parses.set(key, { limit: opts.limit, maxBytes: opts.maxBytes, value: parsed.value });
  }
  return parsed;
}

class TooLarge extends Error {}

/** Rows of one file, per stream (a JSON object of arrays yields one stream per key). */
export type ParsedStream = { stream: string; rows: Record<string, unknown>[]; fields?: FieldInfo[] };

/** The first `maxBytes` of the source as text, cut at the last complete line when truncated. */
async function headText(src: ByteSource, maxBytes: number): Promise<string> {
  const n = Math.min(src.size, maxBytes);
  const text = Buffer.from(await src.read(0, n)).toString("utf8");
  if (n >= src.size) return text;
  const nl = text.lastIndexOf("\n");
  return nl === -1 ? "" : text.slice(0, nl + 1);
}

/**
 * Parses up to `limit` rows per stream, reading at most `maxBytes` bytes of the source
 * (Parquet: counted over every ranged read). JSON needs the whole file, so a larger one is too_large.
 */
export async function parseTabular(
  src: ByteSource,
  format: FileFormat,
  stream: string,
  opts: { limit: number; maxBytes: number; withFields?: boolean },
): Promise<ConnectorResult<ParsedStream[]>> {
  const limit = Math.max(0, opts.limit);
  try {
    if (format === "csv" || format === "tsv") {
      const text = await headText(src, opts.maxBytes);
      const rows = limit === 0 || !text.trim()
        ? []
        : (parseCsv(text, { columns: true, bom: true, to: limit, skip_empty_lines: true, relax_column_count: true, delimiter: format === "tsv" ? "\t" : "," }) as Record<string, unknown>[]);
      let fields: FieldInfo[] | undefined;
      if (opts.withFields && rows.length === 0 && text.trim()) {
        const [header] = parseCsv(text, { to: 1, bom: true, delimiter: format === "tsv" ? "\t" : "," }) as string[][];
        fields = (header ?? []).map((name) => ({ name, type: "string", nullable: true }));
      }
      return ok([{ stream, rows, fields }]);
    }
    if (format === "ndjson") {
      const text = await headText(src, opts.maxBytes);
      const rows: Record<string, unknown>[] = [];
      for (const line of text.split("\n")) {
        if (rows.length >= limit) break;
        if (!line.trim()) continue;
        const v: unknown = JSON.parse(line);
        rows.push(v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v });
      }
      return ok([{ stream, rows }]);
    }
    if (format === "json") {
      if (src.size > opts.maxBytes) return err({ kind: "too_large", message: `${stream} is ${src.size} bytes; JSON files above ${opts.maxBytes} bytes are not read in Safe Mode` });
      const v: unknown = JSON.parse(Buffer.from(await src.read(0, src.size)).toString("utf8"));
      const asRows = (a: unknown[]) => a.slice(0, limit).map((x) => (x && typeof x === "object" && !Array.isArray(x) ? (x as Record<string, unknown>) : { value: x }));
      if (Array.isArray(v)) return ok([{ stream, rows: asRows(v) }]);
      if (v && typeof v === "object") {
        const arrays = Object.entries(v as Record<string, unknown>).filter(([, x]) => Array.isArray(x)) as [string, unknown[]][];
        if (arrays.length > 0) return ok(arrays.map(([k, a]) => ({ stream: `${stream}#${k}`, rows: asRows(a) })));
        return ok([{ stream, rows: limit > 0 ? [v as Record<string, unknown>] : [] }]);
      }
      return ok([{ stream, rows: limit > 0 ? [{ value: v }] : [] }]);
    }
    // Parquet: footer + the pages of the first rows, every byte counted against the cap.
    let read = 0;
    const file: AsyncBuffer = {
      byteLength: src.size,
      slice: async (start, end) => {
        const e = Math.min(end ?? src.size, src.size);
        read += e - start;
        if (read > opts.maxBytes) throw new TooLarge(`${stream}: Parquet read above the ${opts.maxBytes}-byte cap`);
        const b = await src.read(start, e);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      },
    };
    const metadata = await parquetMetadataAsync(file);
    const fields = parquetSchema(metadata).children.map((c) => ({
      name: c.element.name,
      type: String(c.element.logical_type?.type ?? c.element.converted_type ?? c.element.type ?? "group").toLowerCase(),
      nullable: c.element.repetition_type !== "REQUIRED",
    }));
    const total = Number(metadata.num_rows);
    const rows = limit === 0 || total === 0 ? [] : ((await parquetReadObjects({ file, metadata, rowStart: 0, rowEnd: Math.min(limit, total) })) as Record<string, unknown>[]);
    return ok([{ stream, rows: rows.slice(0, limit), fields }]);
  } catch (e) {
    if (e instanceof TooLarge) return err({ kind: "too_large", message: e.message });
    if (e instanceof ByteSourceFailure) return err(e.failure);
    return err({ kind: "other", message: `${stream}: cannot parse as ${format}: ${String((e as Error)?.message ?? e).slice(0, 200)}` });
  }
}

function typeOfValue(v: unknown, fromText: boolean): string | null {
  if (v === null || v === undefined || (fromText && v === "")) return null;
  if (typeof v === "string" && fromText) {
    if (/^-?\d{1,15}$/.test(v)) return "integer";
    if (/^-?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(v)) return "number";
    if (/^(true|false)$/i.test(v)) return "boolean";
  }
  if (typeof v === "string") {
    if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(v)) return "date-time";
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return "date";
    return "string";
  }
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (typeof v === "bigint") return "integer";
  if (typeof v === "boolean") return "boolean";
  if (v instanceof Date) return "date-time";
  if (Array.isArray(v)) return "array";
  return "object";
}

/** Field names in first-seen order with a type merged across rows (integer+number → number). */
export function inferFields(rows: Record<string, unknown>[], fromText = false): FieldInfo[] {
  const seen = new Map<string, { types: Set<string>; nulls: boolean }>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      const f = seen.get(k) ?? { types: new Set<string>(), nulls: false };
      const t = typeOfValue(v, fromText);
      if (t === null) f.nulls = true;
      else f.types.add(t);
      seen.set(k, f);
    }
  }
  return [...seen.entries()].map(([name, f]) => {
    let type = "null";
    if (f.types.size === 1) type = [...f.types][0]!;
    else if (f.types.size === 2 && f.types.has("integer") && f.types.has("number")) type = "number";
    else if (f.types.size === 2 && f.types.has("date") && f.types.has("date-time")) type = "date-time";
    else if (f.types.size > 1) type = "string";
    const missing = rows.some((r) => !(name in r));
    return { name, type, nullable: f.nulls || missing };
  });
}

/** Streams (with fields, no rows) for one source: what discover returns. */
export async function describeTabular(src: ByteSource, format: FileFormat, stream: string, maxBytes: number, memo?: ParseMemo): Promise<ConnectorResult<StreamInfo[]>> {
  const parsed = await parseTabularMemo(memo, src, format, stream, { limit: 50, maxBytes, withFields: true });
  if (!parsed.ok) return parsed;
  const fromText = format === "csv" || format === "tsv";
  return ok(parsed.value.map((p) => ({ name: p.stream, fields: p.fields && p.rows.length === 0 ? p.fields : format === "parquet" && p.fields ? p.fields : inferFields(p.rows, fromText) })));
}

/** `file.json#key` → the file part. */
export function fileOfStream(stream: string): string {
  const hash = stream.lastIndexOf("#");
  return hash > 0 && formatOf(stream.slice(0, hash)) === "json" ? stream.slice(0, hash) : stream;
}

// ---------------------------------------------------------------- local folder

const refuse = (message: string): ConnectorResult<never> => err({ kind: "safe_mode", message });
const MAX_FILES = 200;
const MAX_DEPTH = 4;

/** The grant's folder check (destinations.ts folderCheckReal), resolved once per session. */
type FolderCheck = BoundFolderCheck;

async function rootOf(ctx: ConnectorContext, check: FolderCheck): Promise<ConnectorResult<string>> {
  const raw = [ctx.config.root, ctx.config.path, ctx.config.url].find((v): v is string => typeof v === "string" && v !== "");
  const approved = ctx.destinations.folders.filter((f) => f.sourceTypes.length === 0 || f.sourceTypes.includes(ctx.sourceType));
  let dir: string;
  if (raw && /^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^[a-z]:[\\/]/i.test(raw)) {
    if (!raw.startsWith("file://")) return err({ kind: "unsupported", message: "filesource reads local folders only (file:// URLs)" });
    try {
      dir = fileURLToPath(raw);
    } catch {
      return err({ kind: "other", message: "the file:// URL cannot be parsed" });
    }
  } else if (raw && path.isAbsolute(raw)) dir = raw;
  else {
    // no root, or one relative to the approved folder
    if (approved.length !== 1) {
      return err({ kind: "not_approved", message: "Destination not approved: filesource needs config.root inside one of this tenant's approved folders" });
    }
    if (raw && raw.split(/[\\/]+/).includes("..")) return refuse("'..' is not allowed in config.root");
    dir = path.join(approved[0]!.path, raw ?? ".");
  }
  // before the server's file system is touched: a root outside every approved folder (as written,
  // or as the approved folders resolve) is refused in the same words whether it exists, is a link
  // or is the product's data folder — an API key learns nothing of the server's files from the
  // answer (trust-boundary audit: existence, link targets and the data folder's place were told)
  const given = path.resolve(dir);
  if (!check.approvedRoots.some((r) => isInside(r, given))) {
    return err({ kind: "not_approved", message: `Destination not approved: the folder ${given} is not inside one of this tenant's approved folders`, destination: { kind: "folder", path: given } });
  }
  let real: string;
  try {
    real = await fs.realpath(given);
  } catch {
    return err({ kind: "other", message: "the filesource root does not exist or cannot be read" });
  }
  const allowed = check(real);
  if (!allowed.ok) return allowed;
  try {
    if (!(await fs.stat(real)).isDirectory()) return err({ kind: "other", message: "the filesource root is not a folder" });
  } catch {
    return err({ kind: "other", message: "the filesource root does not exist or cannot be read" });
  }
  return ok(real);
}

/** Resolves a relative resource inside the root, following symlinks, refusing any escape. */
export async function confine(root: string, rel: string, ctx: Pick<ConnectorContext, "sourceType" | "destinations">): Promise<ConnectorResult<string>> {
  return confineWith(root, rel, await folderCheckReal(ctx));
}

async function confineWith(root: string, rel: string, check: FolderCheck): Promise<ConnectorResult<string>> {
  if (rel.includes("\0")) return refuse("path contains a NUL byte");
  if (path.isAbsolute(rel) || /^[a-z]:[\\/]/i.test(rel) || rel.startsWith("\\")) return refuse(`absolute paths are not allowed: ${rel}`);
  if (rel.split(/[\\/]+/).includes("..")) return refuse(`'..' is not allowed in paths: ${rel}`);
  let real: string;
  try {
    real = await fs.realpath(path.join(root, rel));
  } catch {
    return err({ kind: "other", message: `not found: ${rel}` });
  }
  const inside = path.relative(root, real);
  if (inside.startsWith("..") || path.isAbsolute(inside)) return refuse(`${rel} resolves outside the source root (symlink escape)`);
  // the file itself, once more against the grant: a data or system folder inside an approved root stays closed
  const allowed = check(real);
  if (!allowed.ok) return allowed;
  return ok(real);
}

/** Directory entries read per folder at most: a folder with millions of entries is not read in full. */
export const MAX_DIR_ENTRIES = 10_000;

/** Up to `max` entries of a directory, streamed (fs.opendir), never the whole listing at once. */
export async function readDirBounded(dir: string, max = MAX_DIR_ENTRIES): Promise<import("node:fs").Dirent[]> {
  const out: import("node:fs").Dirent[] = [];
  const d = await fs.opendir(dir, { bufferSize: 128 });
  try {
    for (let e = await d.read(); e && out.length < max; e = await d.read()) out.push(e);
  } finally {
    await d.close().catch(() => undefined);
  }
  return out;
}

/** A file confinement let through: its realpath, and which file it was (device, inode) and its size then. */
type Confined = { real: string; dev: number; ino: number; size: number };

/**
 * One session with the folder (one operation, or one attempt's health check, discovery and
 * sample): the grant and the root resolved once, the listing made once (each file confined by
 * realpath there), each byte range of a file read once (ReadCache: discovery's reads serve the
 * sample). A file is opened only when bytes are read that the session does not have; the handle
 * must be the file confinement checked (same device and inode), and is closed after its stage.
 */
type FolderSession = {
  ctx: ConnectorContext;
  root: string;
  check: FolderCheck;
  confined: Map<string, Confined>;
  listing?: { files: string[]; missing: NamedResourceCheck[] };
  discovered?: DiscoveredSchema;
  bytes: ReadCache;
  handles: Set<FileHandle>;
  closed: boolean;
};

const STOPPED: ConnectorFailure = { kind: "network", message: "the attempt was stopped; the folder session was closed" };

/** A ByteSource's failure reported as it is by parseTabular (a refusal stays a refusal, not a parse error). */
export class ByteSourceFailure extends Error {
  constructor(readonly failure: ConnectorFailure) {
    super(failure.message);
  }
}

async function openFolder(ctx: ConnectorContext): Promise<ConnectorResult<FolderSession>> {
  if (ctx.signal?.aborted) return err(STOPPED);
  const check = await folderCheckReal(ctx);
  const root = await rootOf(ctx, check);
  if (!root.ok) return root;
  return ok({ ctx, root: root.value, check, confined: new Map(), bytes: new ReadCache(), handles: new Set(), closed: false });
}

/** Closes the session's open file handles (whatever read is in flight fails) and drops what it read. */
async function closeFolder(s: FolderSession): Promise<void> {
  s.closed = true;
  const open = [...s.handles];
  s.handles.clear();
  s.bytes.clear();
  await Promise.all(open.map((fh) => fh.close().catch(() => undefined)));
}

/** Files under a folder (depth and count capped); symlinks are followed only inside the root. */
async function listFiles(s: FolderSession, dirReal: string, out: string[], depth = 0): Promise<void> {
  if (depth > MAX_DEPTH || out.length >= MAX_FILES) return;
  const entries = await readDirBounded(dirReal);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (out.length >= MAX_FILES) return;
    if (e.name.startsWith(".")) continue;
    const relToRoot = path.relative(s.root, path.join(dirReal, e.name));
    const c = await confineWith(s.root, relToRoot, s.check);
    if (!c.ok) continue; // escaping links are skipped when listing; refused when named
    const st = await fs.stat(c.value).catch(() => undefined);
    if (!st) continue; // gone since it was listed
    if (st.isDirectory()) await listFiles(s, c.value, out, depth + 1);
    else if (st.isFile() && formatOf(e.name)) {
      const rel = relToRoot.split(path.sep).join("/");
      out.push(rel);
      s.confined.set(rel, { real: c.value, dev: st.dev, ino: st.ino, size: st.size });
    }
  }
}

/** The relative files the connection covers (resource ids, or everything under the root); listed once per session. */
async function filesOf(s: FolderSession): Promise<ConnectorResult<{ files: string[]; missing: NamedResourceCheck[] }>> {
  if (s.listing) return ok(s.listing);
  const { ctx, root } = s;
  const out: string[] = [];
  // named files or folders that do not exist under the root (discovery reports them; issue 10 item 7)
  const missing: NamedResourceCheck[] = [];
  const ids = ctx.resourceIds.length ? ctx.resourceIds : ["."];
  for (const id of ids) {
    const c = await confineWith(root, id, s.check);
    if (!c.ok && ctx.resourceIds.length && c.error.message === `not found: ${id}`) {
      missing.push({ id, kind: "file or folder", found: false, reason: "absent", detail: "no such file or folder under the source root" });
      continue;
    }
    if (!c.ok) return c;
    // gone since it was confined: said like a missing file, never with the server's path in an error's text
    const st = await fs.stat(c.value).catch(() => undefined);
    if (!st) return err({ kind: "other", message: `not found: ${id}` });
    if (st.isDirectory()) await listFiles(s, c.value, out);
    else if (formatOf(c.value)) {
      const rel = path.relative(root, path.join(root, id)).split(path.sep).join("/");
      out.push(rel);
      if (st.isFile()) s.confined.set(rel, { real: c.value, dev: st.dev, ino: st.ino, size: st.size });
    } else return err({ kind: "unsupported", message: `${id}: unsupported file type (csv, tsv, json, ndjson, parquet)` });
  }
  s.listing = { files: [...new Set(out)], missing };
  return ok(s.listing);
}

/**
 * Opens a confined file without following a late-swapped symlink, and checks it is the file
 * confinement let through (same device and inode): a path swapped since is refused.
 */
async function openConfined(s: FolderSession, rel: string, f: Confined): Promise<FileHandle> {
  if (s.closed) throw new ByteSourceFailure(STOPPED);
  let fh: FileHandle;
  try {
    fh = await fs.open(f.real, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0));
  } catch {
    throw new ByteSourceFailure({ kind: "other", message: `${rel}: cannot be opened` });
  }
  s.handles.add(fh);
  const st = await fh.stat().catch(() => undefined);
  // where the opened file really is: O_NOFOLLOW guards only the last path part, and a folder on the
  // way swapped for a symlink between confinement and open (by someone who can write under the
  // root) would lead elsewhere — the data folder, say — with the inode taken after the swap
  // matching. The handle's own path is checked against the root and the grant again.
  const where = await handlePath(fh, f.real);
  const stillInside = where !== undefined && isInside(s.root, where) && s.check(where).ok;
  if (!st || st.dev !== f.dev || st.ino !== f.ino || !stillInside || s.closed) {
    s.handles.delete(fh);
    await fh.close().catch(() => undefined);
    if (s.closed) throw new ByteSourceFailure(STOPPED);
    throw new ByteSourceFailure({ kind: "safe_mode", message: `${rel} changed after it was confined to the source root; not read` });
  }
  return fh;
}

/**
 * The real path of an open file (Linux: /proc/self/fd); undefined when Linux cannot tell (then
 * the file is not read). Without /proc (macOS, for development) the inode check alone stands.
 */
async function handlePath(fh: FileHandle, confined: string): Promise<string | undefined> {
  if (process.platform !== "linux") return confined;
  try {
    // the kernel's own name of the open file: its real path, every link on the way resolved
    return await fs.readlink(`/proc/self/fd/${fh.fd}`);
  } catch {
    return undefined;
  }
}

async function withFile<T>(s: FolderSession, rel: string, fn: (src: ByteSource, format: FileFormat, memo: ParseMemo) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  let f = s.confined.get(rel);
  if (!f) {
    // not listed in this session (a schema handed to sample): confined now
    const c = await confineWith(s.root, rel, s.check);
    if (!c.ok) return c;
    const st = await fs.stat(c.value).catch(() => undefined);
    if (!st?.isFile()) return err({ kind: "other", message: `${rel}: cannot be opened` });
    f = { real: c.value, dev: st.dev, ino: st.ino, size: st.size };
    s.confined.set(rel, f);
  }
  const file = f;
  const format = formatOf(file.real) ?? formatOf(rel);
  if (!format) return err({ kind: "unsupported", message: `${rel}: unsupported file type` });
  let opening: Promise<FileHandle> | undefined;
  const src = s.bytes.wrap(file.real, {
    size: file.size,
    read: async (start, end) => {
      const fh = await (opening ??= openConfined(s, rel, file));
      const buf = Buffer.alloc(Math.max(0, end - start));
      const { bytesRead } = await fh.read(buf, 0, buf.length, start).catch(() => {
        throw new ByteSourceFailure(s.closed ? STOPPED : { kind: "other", message: `${rel}: cannot be read` });
      });
      return buf.subarray(0, bytesRead);
    },
  });
  try {
    return await fn(src, format, { cache: s.bytes, id: file.real });
  } finally {
    const fh = await opening?.catch(() => undefined);
    if (fh && s.handles.delete(fh)) await fh.close().catch(() => undefined);
  }
}

/**
 * Spreads the budget over streams (shared with the S3 driver): a first pass gives each stream
 * an equal share; when a short stream leaves budget over, a second pass tops up from streams
 * that had more. A file that expands into several streams (JSON object of arrays) counts as one.
 */
export async function sampleStreams(
  names: string[],
  budget: number,
  readStream: (name: string, limit: number) => Promise<ConnectorResult<ParsedStream[]>>,
): Promise<ConnectorResult<SampleRecord[]>> {
  const records: SampleRecord[] = [];
  const streams = names.slice(0, Math.max(budget, 0));
  const perStream = streams.length ? Math.max(1, Math.ceil(budget / streams.length)) : 0;
  const taken = new Map<string, number>();
  const full = new Set<string>();
  let firstFailure: ConnectorFailure | undefined;
  for (const pass of [0, 1]) {
    for (const name of pass === 0 ? streams : streams.filter((n) => full.has(n))) {
      const remaining = budget - records.length;
      if (remaining <= 0) break;
      const already = taken.get(name) ?? 0;
      const limit = already + Math.min(pass === 0 ? perStream : remaining, remaining);
      const parsed = await readStream(name, limit);
      if (!parsed.ok) {
        if (parsed.error.kind === "safe_mode") return parsed; // a refusal is never skipped over
        firstFailure ??= parsed.error;
        continue;
      }
      const exact = parsed.value.filter((p) => p.stream === name);
      const rows = (exact.length ? exact : parsed.value).flatMap((p) => p.rows.map((data) => ({ stream: p.stream, data })));
      const fresh = rows.slice(already, limit);
      records.push(...fresh.slice(0, budget - records.length));
      taken.set(name, already + fresh.length);
      if (rows.length >= limit) full.add(name);
      else full.delete(name);
    }
  }
  if (records.length === 0 && firstFailure) return err(firstFailure);
  return ok(records);
}

/** One stage of a session; an aborted session's stage fails (a skipped file is not a partial success). */
async function folderStage<T>(s: FolderSession, fn: (s: FolderSession) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  if (s.closed || s.ctx.signal?.aborted) return err(STOPPED);
  try {
    const r = await fn(s);
    return s.ctx.signal?.aborted ? err(STOPPED) : r;
  } catch (e) {
    if (s.ctx.signal?.aborted) return err(STOPPED);
    throw e;
  }
}

async function withFolder<T>(ctx: ConnectorContext, fn: (s: FolderSession) => Promise<ConnectorResult<T>>): Promise<ConnectorResult<T>> {
  const opened = await openFolder(ctx);
  if (!opened.ok) return opened;
  try {
    return await folderStage(opened.value, fn);
  } finally {
    await closeFolder(opened.value);
  }
}

async function folderHealth(s: FolderSession, started: number): Promise<ConnectorResult<HealthInfo>> {
  const files = await filesOf(s);
  if (!files.ok) return files;
  return ok({ latencyMs: Math.round(performance.now() - started), detail: `${files.value.files.length} readable file(s)` });
}

async function discoverFolder(s: FolderSession): Promise<ConnectorResult<DiscoveredSchema>> {
  const { ctx } = s;
  const files = await filesOf(s);
  if (!files.ok) return files;
  const streams: StreamInfo[] = [];
  const cap = Math.min(ctx.policy.maxResponseBytes, 256 * 1024);
  for (const rel of files.value.files) {
    const described = await withFile(s, rel, (src, format, memo) => describeTabular(src, format, rel, format === "json" ? ctx.policy.maxResponseBytes : cap, memo));
    if (described.ok) streams.push(...described.value);
    else if (described.error.kind === "safe_mode") return described;
    else streams.push({ name: rel, fields: [] }); // listed, but its fields could not be read within the caps
  }
  const { missing } = files.value;
  const resources: NamedResourceCheck[] = ctx.resourceIds.map((id) => missing.find((m) => m.id === id) ?? { id, kind: "file or folder", found: true });
  s.discovered = { streams, ...(resources.length ? { resources } : {}) };
  return ok(s.discovered);
}

/** The bounded read; no streams: what this session's discovery found, else the listed files. */
async function sampleFolder(s: FolderSession, schema: DiscoveredSchema): Promise<ConnectorResult<SampleRecord[]>> {
  const { ctx } = s;
  let names = schema.streams.map((x) => x.name);
  if (names.length === 0) {
    if (s.discovered) names = s.discovered.streams.map((x) => x.name);
    else {
      const files = await filesOf(s);
      if (!files.ok) return files;
      names = files.value.files;
    }
  }
  const sampled = await sampleStreams(names, sampleBudget(ctx.policy), (name, limit) =>
    withFile(s, fileOfStream(name), (src, format, memo) => parseTabularMemo(memo, src, format, fileOfStream(name), { limit, maxBytes: ctx.policy.maxResponseBytes })),
  );
  return sampled.ok ? finishSample(sampled.value, ctx.policy) : sampled;
}

export const filesourceAdapter: SourceAdapter = {
  async healthCheck(ctx) {
    const started = performance.now();
    return withFolder(ctx, (s) => folderHealth(s, started));
  },

  async discover(ctx) {
    return withFolder(ctx, discoverFolder);
  },

  async sample(ctx, schema) {
    return withFolder(ctx, (s) => sampleFolder(s, schema));
  },

  /**
   * One folder session for the attempt: the root and the grant resolved once, one listing, each
   * file's head read once (discovery's bytes serve the sample). Closed on close and at once
   * when `ctx.signal` aborts (open handles closed, whatever read is in flight fails).
   */
  async openAttempt(ctx): Promise<ConnectorResult<AttemptSource>> {
    let since: number | undefined = performance.now(); // the first health check's latency includes resolving the root
    const opened = await openFolder(ctx);
    if (!opened.ok) return opened;
    const s = opened.value;
    const signal = ctx.signal;
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        signal?.removeEventListener("abort", onAbort);
        await closeFolder(s);
      })());
    const onAbort = () => void close();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) {
      await close();
      return err(STOPPED);
    }
    return ok({
      healthCheck: () =>
        folderStage(s, (x) => {
          const from = since ?? performance.now();
          since = undefined;
          return folderHealth(x, from);
        }),
      discover: () => folderStage(s, discoverFolder),
      sample: (schema) => folderStage(s, (x) => sampleFolder(x, schema)),
      close,
    });
  },
};
