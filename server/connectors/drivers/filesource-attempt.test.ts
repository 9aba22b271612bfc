/**
 * Integration: one onboarding attempt over ONE folder session (filesourceAdapter.openAttempt) on
 * the seed files and on a scratch root with escapes. Spies on node:fs/promises count what the
 * session did to the file system: realpaths, listings, opens, reads, and the handles still open.
 * The grant and the root are resolved once, the files listed (and confined) once, each file's
 * head read once (the sample reads nothing again), and confinement refuses what it refused.
 */
import fs, { type FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ctxFor as baseCtx } from "../../../tests/connectors/native/ctx";
import { createTestTenant, testDb } from "../../../tests/helpers/db";
import type { Db } from "../../db/client";
import { ok } from "../../lib/result";
import { unmetNamedResources } from "../../onboarding/named-resources";
import { onboardConnection } from "../../onboarding/pipeline";
import { ConnectionIntentSchema } from "../../onboarding/schemas";
import { makePolicy } from "../safe-mode/policy";
import { checkFolderReal, type DestinationGrant } from "../safe-mode/destinations";
import type { AttemptSource, ConnectorContext, ConnectorFailure, ConnectorResult } from "../types";
import { filesourceAdapter } from "./filesource";

const SEEDS = path.resolve(import.meta.dirname, "../../../seeds/sandbox/files");
const FILES = ["customers.csv", "orders.json", "events.ndjson"];
let scratch: string;
let root: string;
let outside: string;
let dataDir: string;

const grant = (folders: string[]): DestinationGrant => ({
  catalogHosts: [],
  hosts: [],
  folders: folders.map((p) => ({ path: p, sourceTypes: ["filesource"], origin: "approved" as const })),
  forbiddenFolders: [dataDir],
});
const ctxFor = (opts: Parameters<typeof baseCtx>[1] & { signal?: AbortSignal } = {}): ConnectorContext => ({
  ...baseCtx("filesource", { destinations: grant([SEEDS, root]), ...opts }),
  signal: opts.signal,
});
const failureOf = (r: { ok: boolean; error?: ConnectorFailure }) => (r.ok ? undefined : r.error);
const opened = (r: ConnectorResult<AttemptSource>): AttemptSource => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

/** What the code under test did to the file system since the last `reset`. */
type FsCount = { realpath: number; stat: number; opendir: number; opens: string[]; reads: number; openHandles: Set<FileHandle> };
let count: FsCount;
/** runs before a stat of the code under test (a test's swap inside the race window) */
let beforeStat: ((p: string) => Promise<void>) | undefined;
/** an open of a path matching it waits for `release` */
let gate: { re: RegExp; wait: Promise<void>; release: () => void } | undefined;
const reset = () => {
  count = { realpath: 0, stat: 0, opendir: 0, opens: [], reads: 0, openHandles: count?.openHandles ?? new Set() };
};

beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "aam-filesource-attempt-"));
  root = path.join(scratch, "root");
  outside = path.join(scratch, "outside");
  dataDir = path.join(scratch, "data");
  await fs.mkdir(dataDir);
  await fs.writeFile(path.join(dataDir, "secrets.json"), JSON.stringify({ ENCRYPTION_KEY: "k".repeat(44) }));
  await fs.mkdir(root);
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, "secret.csv"), "password\nhunter2\n");
  await fs.symlink(path.join(outside, "secret.csv"), path.join(root, "escape.csv"));
});
afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  reset();
  const realpath = fs.realpath.bind(fs);
  const stat = fs.stat.bind(fs);
  const opendir = fs.opendir.bind(fs);
  const open = fs.open.bind(fs);
  vi.spyOn(fs, "realpath").mockImplementation(((...a: Parameters<typeof fs.realpath>) => {
    count.realpath++;
    return realpath(...a);
  }) as typeof fs.realpath);
  vi.spyOn(fs, "stat").mockImplementation((async (...a: Parameters<typeof fs.stat>) => {
    count.stat++;
    await beforeStat?.(String(a[0]));
    return stat(...a);
  }) as typeof fs.stat);
  vi.spyOn(fs, "opendir").mockImplementation(((...a: Parameters<typeof fs.opendir>) => {
    count.opendir++;
    return opendir(...a);
  }) as typeof fs.opendir);
  vi.spyOn(fs, "open").mockImplementation((async (...a: Parameters<typeof fs.open>) => {
    const p = String(a[0]);
    count.opens.push(path.basename(p));
    if (gate?.re.test(p)) await gate.wait;
    const fh = await open(...a);
    const read = fh.read.bind(fh) as (...x: unknown[]) => ReturnType<FileHandle["read"]>;
    const close = fh.close.bind(fh);
    (fh as unknown as { read: (...x: unknown[]) => unknown }).read = (...x: unknown[]) => {
      count.reads++;
      return read(...x);
    };
    fh.close = () => {
      count.openHandles.delete(fh);
      return close();
    };
    count.openHandles.add(fh);
    return fh;
  }) as typeof fs.open);
});
afterEach(() => {
  vi.restoreAllMocks();
  gate = undefined;
  beforeStat = undefined;
});

describe("filesource: one folder session per attempt", () => {
  it("named files: the grant and root resolved once, each file confined once and read once; the sample reads nothing again", async () => {
    const ctx = ctxFor({ config: { root: SEEDS }, resourceIds: FILES });
    await checkFolderReal(ctx, SEEDS);
    const grantCost = count.realpath; // one check resolves the grant's folders (approved, data, system)
    reset();
    const s = opened(await filesourceAdapter.openAttempt!(ctx));
    // the grant resolved once, and the root
    expect(count).toMatchObject({ realpath: grantCost + 1, stat: 1, opendir: 0, opens: [] });

    reset();
    const h = await s.healthCheck();
    expect(h.ok && h.value.detail).toBe("3 readable file(s)");
    expect(count).toMatchObject({ realpath: 3, stat: 3, opendir: 0, opens: [] }); // one realpath and stat per named file

    reset();
    const d = await s.discover();
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.streams.map((x) => x.name)).toEqual(FILES);
    expect(d.value.resources).toEqual(FILES.map((id) => ({ id, kind: "file or folder", found: true })));
    // no listing or confinement again: one open and one read per file, each closed
    expect(count).toMatchObject({ realpath: 0, stat: 0, opendir: 0, opens: FILES, reads: 3 });
    expect(count.openHandles.size).toBe(0);

    reset();
    const r = await s.sample({ streams: [] }); // no streams handed over: what discovery found
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value).toHaveLength(20);
    expect(await s.sample(d.value)).toEqual(r);
    expect(count).toMatchObject({ realpath: 0, stat: 0, opendir: 0, opens: [], reads: 0 });

    // the same records as the stage-by-stage call
    expect(await filesourceAdapter.sample(ctx, d.value)).toEqual(r);
    await s.close();
    await s.close(); // idempotent
    expect(count.openHandles.size).toBe(0);
    expect(failureOf(await s.discover())?.kind).toBe("network"); // a closed session reads nothing
  });

  it("a folder: listed once (one opendir per folder), across health, discovery and sample", async () => {
    const s = opened(await filesourceAdapter.openAttempt!(ctxFor({ config: { root: SEEDS }, policy: { maxRecords: 20 } })));
    try {
      reset();
      expect((await s.healthCheck()).ok).toBe(true);
      expect(count.opendir).toBe(2); // the root and inventory/
      const d = await s.discover();
      if (!d.ok) throw new Error(d.error.message);
      expect(d.value.streams.map((x) => x.name)).toEqual(["customers.csv", "events.ndjson", "inventory/products.json#products", "inventory/products.json#warehouses", "orders.json"]);
      const r = await s.sample(d.value);
      expect(r.ok && r.value.length).toBe(20);
      expect(count.opendir).toBe(2);
      expect(count.opens).toEqual(["customers.csv", "events.ndjson", "products.json", "orders.json"]);
    } finally {
      await s.close();
    }
  });

  it("a named missing file: discovery reports it absent, the pipeline's check is not ACTIVE", async () => {
    const ctx = ctxFor({ config: { root: SEEDS }, resourceIds: ["customers.csv", "no-such-file.csv"] });
    const s = opened(await filesourceAdapter.openAttempt!(ctx));
    try {
      expect((await s.healthCheck()).ok).toBe(true);
      const d = await s.discover();
      if (!d.ok) throw new Error(d.error.message);
      expect(d.value.resources).toEqual([
        { id: "customers.csv", kind: "file or folder", found: true },
        { id: "no-such-file.csv", kind: "file or folder", found: false, reason: "absent", detail: "no such file or folder under the source root" },
      ]);
      expect(unmetNamedResources(ctx.resourceIds, d.value)?.status).toBe("HEALING");
    } finally {
      await s.close();
    }
  });

  it("confinement through the session: escapes, the data folder and /etc are refused as before", async () => {
    // a named symlink out of the root: the health check (the listing) refuses it
    const esc = opened(await filesourceAdapter.openAttempt!(ctxFor({ config: { root }, resourceIds: ["escape.csv"] })));
    expect(failureOf(await esc.healthCheck())).toMatchObject({ kind: "safe_mode", message: expect.stringContaining("symlink escape") });
    await esc.close();
    // listed, the escaping link is skipped; handed to the sample in a schema, it is refused
    const s = opened(await filesourceAdapter.openAttempt!(ctxFor({ config: { root } })));
    const d = await s.discover();
    expect(d.ok && d.value.streams).toEqual([]);
    const r = await s.sample({ streams: [{ name: "escape.csv", fields: [] }] });
    expect(failureOf(r)?.kind).toBe("safe_mode");
    expect(JSON.stringify(r)).not.toContain("hunter2");
    await s.close();
    expect(count.opens).toEqual([]);
    // the data folder and /etc: the session is not opened (outside every approved folder, /etc is
    // refused as any unapproved folder is; approved, or under an approved "/", it is never readable)
    for (const approved of [[dataDir], ["/"]]) {
      expect(failureOf(await filesourceAdapter.openAttempt!(baseCtx("filesource", { config: { root: dataDir }, destinations: grant(approved) })))?.kind).toBe("egress_refused");
      expect(failureOf(await filesourceAdapter.openAttempt!(baseCtx("filesource", { config: { root: "/etc" }, destinations: grant(approved) })))?.kind).toBe(approved[0] === "/" ? "egress_refused" : "not_approved");
    }
    expect(count.opens).toEqual([]);
  });

  it("a file swapped after the listing is not read: another file renamed over it is refused, a symlink is not followed", async () => {
    await fs.writeFile(path.join(root, "swap.csv"), "id\n1\n");
    await fs.writeFile(path.join(root, "link.csv"), "id\n2\n");
    const s = opened(await filesourceAdapter.openAttempt!(ctxFor({ config: { root }, resourceIds: ["swap.csv", "link.csv"] })));
    try {
      expect((await s.healthCheck()).ok).toBe(true); // listed and confined
      // swap.csv: a different file (inode) now; link.csv: a symlink out of the root now
      await fs.writeFile(path.join(root, ".tmp.csv"), "password\nhunter2\n");
      await fs.rename(path.join(root, ".tmp.csv"), path.join(root, "swap.csv"));
      await fs.rm(path.join(root, "link.csv"));
      await fs.symlink(path.join(outside, "secret.csv"), path.join(root, "link.csv"));
      const d = await s.discover();
      expect(failureOf(d)).toMatchObject({ kind: "safe_mode", message: "swap.csv changed after it was confined to the source root; not read" });
      expect(JSON.stringify(d)).not.toContain("password");
      const r = await s.sample({ streams: [{ name: "link.csv", fields: [] }] });
      expect(failureOf(r)?.kind).toBe("other"); // O_NOFOLLOW: cannot be opened
      expect(JSON.stringify(r)).not.toContain("hunter2");
      expect(count.openHandles.size).toBe(0);
    } finally {
      await s.close();
      await fs.rm(path.join(root, "swap.csv"));
      await fs.rm(path.join(root, "link.csv"));
    }
  });

  it("a folder on the way swapped for a symlink to the data folder between confinement and stat is not read: the open file's own path is checked", async () => {
    // found in the trust-boundary audit: the inode was taken after the swap, O_NOFOLLOW guards only
    // the last path part, and the data folder's secrets.json was read (at iteration 487 of a race)
    const sub = path.join(root, "sub");
    await fs.mkdir(sub);
    await fs.writeFile(path.join(sub, "secrets.json"), JSON.stringify([{ id: 1, name: "harmless" }]));
    beforeStat = async (p) => {
      if (p !== path.join(sub, "secrets.json")) return;
      beforeStat = undefined;
      await fs.rename(sub, path.join(root, "sub.real"));
      await fs.symlink(dataDir, sub);
    };
    try {
      const s = opened(await filesourceAdapter.openAttempt!(ctxFor({ config: { root }, resourceIds: ["sub/secrets.json"] })));
      try {
        const r = await s.sample({ streams: [{ name: "sub/secrets.json", fields: [] }] });
        expect(failureOf(r)).toMatchObject({ kind: "safe_mode", message: "sub/secrets.json changed after it was confined to the source root; not read" });
        expect(JSON.stringify(r)).not.toContain("kkkk");
        expect(count.openHandles.size).toBe(0);
      } finally {
        await s.close();
      }
    } finally {
      await fs.rm(sub, { force: true });
      await fs.rm(path.join(root, "sub.real"), { recursive: true, force: true });
    }
  });

  it("closes on failure: a failed read leaves no handle, and the session still answers", async () => {
    const s = opened(await filesourceAdapter.openAttempt!(ctxFor({ config: { root: SEEDS }, resourceIds: ["orders.json"], policy: { maxResponseBytes: 500 } })));
    expect(failureOf(await s.sample({ streams: [] }))?.kind).toBe("too_large");
    expect((await s.healthCheck()).ok).toBe(true);
    await s.close();
    expect(count.openHandles.size).toBe(0);
  });

  it("an aborted signal closes the session at once, whatever is in flight; aborted before opening, nothing is touched", async () => {
    const abort = new AbortController();
    const s = opened(await filesourceAdapter.openAttempt!(ctxFor({ config: { root: SEEDS }, resourceIds: FILES, signal: abort.signal })));
    expect((await s.healthCheck()).ok).toBe(true);
    let release!: () => void;
    gate = { re: /orders\.json$/, wait: new Promise<void>((r) => (release = r)), release: () => release() };
    const pending = s.discover();
    await vi.waitFor(() => expect(count.opens).toContain("orders.json"));
    abort.abort();
    gate.release(); // the open completes after the abort: its handle is closed, nothing is read
    expect(failureOf(await pending)).toEqual({ kind: "network", message: "the attempt was stopped; the folder session was closed" });
    expect(count.openHandles.size).toBe(0);
    expect(failureOf(await s.sample({ streams: [] }))?.kind).toBe("network");
    await s.close();

    reset();
    const gone = new AbortController();
    gone.abort();
    expect(failureOf(await filesourceAdapter.openAttempt!(ctxFor({ config: { root: SEEDS }, signal: gone.signal })))?.kind).toBe("network");
    expect(count).toMatchObject({ realpath: 0, opens: [] });
  });
});

describe("filesource: the pipeline through the attempt session", () => {
  let db: Db;
  let tenantId: string;
  beforeAll(async () => {
    db = testDb();
    tenantId = await createTestTenant(db, "fsattempt");
  });
  afterAll(async () => db?.$disconnect());

  const run = (resourceIds: string[]) =>
    onboardConnection(
      {
        db,
        credentials: { resolve: async () => ok({}) },
        connectors: () => ({ adapter: filesourceAdapter }),
        policy: async () => makePolicy(),
        destinations: async () => grant([SEEDS]),
      },
      tenantId,
      ConnectionIntentSchema.parse({
        source_type: "filesource",
        resource_ids: resourceIds,
        scopes_mode: "safe_readonly",
        credential_locator: "env:AAM_SECRET_TEST_FS_ATTEMPT",
        namespace: "autonomy",
        risk_level: "low",
        evidence: { status: "Sanctioned", source: "IdP", ts: "2025-11-08T18:00:00Z" },
        owner: { user: "admin@company.com", confidence: 0.95, why: "oauth_consenter" },
        config: { root: SEEDS },
      }),
    );

  it("ACTIVE with one open per file; a named missing file ends HEALING, naming it", async () => {
    const r = await run(FILES);
    expect(r).toMatchObject({ status: "ACTIVE", first_sync_rows: 20 });
    expect([...count.opens].sort()).toEqual([...FILES].sort());
    expect(count.reads).toBe(3);
    expect(count.openHandles.size).toBe(0);

    const missing = await run(["customers.csv", "no-such-file.csv"]);
    expect(missing.status).toBe("HEALING");
    expect(missing.message).toContain("no-such-file.csv");
  });
});

describe("a session's parse reuse (parseTabularMemo)", () => {
  const text = (rows: number) => `id,name\n${Array.from({ length: rows }, (_, i) => `${i},n${i}`).join("\n")}\n`;
  const sourceOf = (body: string) => {
    const bytes = Buffer.from(body);
    let reads = 0;
    return { src: { size: bytes.length, read: async (a: number, b: number) => (reads++, bytes.subarray(a, b)) }, reads: () => reads };
  };

  it("a parse of the same bytes serves a smaller limit with the same rows; other caps, parquet and failures are parsed again", async () => {
    const { ReadCache, parseTabular, parseTabularMemo } = await import("./filesource");
    const cache = new ReadCache();
    const body = sourceOf(text(60));
    const src = cache.wrap("f.csv", body.src);
    const memo = { cache, id: "f.csv" };
    const first = await parseTabularMemo(memo, src, "csv", "f.csv", { limit: 50, maxBytes: 10_000, withFields: true });
    expect(first.ok && first.value[0]!.rows).toHaveLength(50);
    const reused = await parseTabularMemo(memo, src, "csv", "f.csv", { limit: 7, maxBytes: 20_000 }); // the file is within both caps
    expect(reused).toEqual(await parseTabular(body.src, "csv", "f.csv", { limit: 7, maxBytes: 20_000 }));
    expect(body.reads()).toBe(2); // one for the memo's parse, one for the direct parse compared with
    expect(cache.stats).toEqual({ misses: 1, hits: 0 }); // the reuse read nothing, not even the cache

    // a larger limit than was parsed, or a cap that cuts the file differently: parsed (from the kept bytes)
    expect((await parseTabularMemo(memo, src, "csv", "f.csv", { limit: 55, maxBytes: 10_000 })).ok).toBe(true);
    const cut = await parseTabularMemo(memo, src, "csv", "f.csv", { limit: 5, maxBytes: 40 });
    expect(cut).toEqual(await parseTabular(body.src, "csv", "f.csv", { limit: 5, maxBytes: 40 }));
    expect(cache.stats.hits).toBe(2);

    // a failed parse is not remembered
    const bad = cache.wrap("bad.ndjson", sourceOf('{"a":1}\n{oops\n').src);
    const badMemo = { cache, id: "bad.ndjson" };
    expect((await parseTabularMemo(badMemo, bad, "ndjson", "bad.ndjson", { limit: 50, maxBytes: 10_000 })).ok).toBe(false);
    expect(cache.parses.has(JSON.stringify(["bad.ndjson", "ndjson", "bad.ndjson"]))).toBe(false);
    cache.clear();
    expect(cache.parses.size).toBe(0);
  });
});
