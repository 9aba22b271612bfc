/** Integration: the filesource driver on the seed files and on a scratch folder with escapes. */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctxFor as baseCtx } from "../../../tests/connectors/native/ctx";
import type { DestinationGrant } from "../safe-mode/destinations";
import type { ConnectorFailure } from "../types";
import { filesourceAdapter, inferFields } from "./filesource";

const SEEDS = path.resolve(import.meta.dirname, "../../../seeds/sandbox/files");
let scratch: string;
let root: string;
let outside: string;
let dataDir: string;
const failureOf = (r: { ok: boolean; error?: ConnectorFailure }) => (r.ok ? undefined : r.error);

/** Approved folders as an admin would keep them; the data folder forbidden as the pipeline does. */
const grant = (folders: string[]): DestinationGrant => ({
  catalogHosts: [],
  hosts: [],
  folders: folders.map((p) => ({ path: p, sourceTypes: ["filesource"], origin: "approved" as const })),
  forbiddenFolders: [dataDir],
});
/** The seed folder and the scratch root approved; `outside` is not. */
const ctxFor = (type: string, opts: Parameters<typeof baseCtx>[1] = {}) => baseCtx(type, { destinations: grant([SEEDS, root]), ...opts });

beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "aam-filesource-"));
  root = path.join(scratch, "root");
  outside = path.join(scratch, "outside");
  dataDir = path.join(scratch, "data");
  await fs.mkdir(dataDir);
  await fs.writeFile(path.join(dataDir, "secrets.json"), JSON.stringify({ ENCRYPTION_KEY: "k".repeat(44) }));
  await fs.mkdir(path.join(root, "sub"), { recursive: true });
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, "secret.csv"), "password\nhunter2\n");
  await fs.copyFile(path.join(SEEDS, "customers.csv"), path.join(root, "customers.csv"));
  await fs.writeFile(path.join(root, "sub", "big.ndjson"), Array.from({ length: 5000 }, (_, i) => JSON.stringify({ i }) + " ".repeat(200)).join("\n"));
  await fs.symlink(path.join(outside, "secret.csv"), path.join(root, "escape.csv"));
  await fs.symlink(outside, path.join(root, "escape-dir"));
  await fs.symlink(path.join(root, "customers.csv"), path.join(root, "sub", "inside-link.csv"));
});

afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

describe("filesource driver", () => {
  it("passes health, discover and sample on the seed files", async () => {
    const ctx = ctxFor("filesource", { config: { root: SEEDS }, policy: { maxRecords: 50 } });
    const h = await filesourceAdapter.healthCheck(ctx);
    expect(h.ok && h.value.detail).toBe("4 readable file(s)");

    const d = await filesourceAdapter.discover(ctx);
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.streams.map((s) => s.name).sort()).toEqual(["customers.csv", "events.ndjson", "inventory/products.json#products", "inventory/products.json#warehouses", "orders.json"]);
    const customers = d.value.streams.find((s) => s.name === "customers.csv")!;
    expect(customers.fields).toEqual([
      { name: "id", type: "integer", nullable: false },
      { name: "name", type: "string", nullable: false },
      { name: "email", type: "string", nullable: false },
      { name: "country", type: "string", nullable: false },
      { name: "created_at", type: "date-time", nullable: false },
      { name: "lifetime_value", type: "number", nullable: false },
    ]);
    expect(d.value.streams.find((s) => s.name === "events.ndjson")!.fields).toContainEqual({ name: "properties", type: "object", nullable: false });
    expect(JSON.stringify(d.value)).not.toContain("@example.com"); // no rows in discover

    const s = await filesourceAdapter.sample(ctx, d.value);
    if (!s.ok) throw new Error(s.error.message);
    expect(s.value.length).toBe(20); // maxRecords 50 asked, 20 is the ceiling
    expect(new Set(s.value.map((r) => r.stream)).size).toBe(5);
    expect(s.value.find((r) => r.stream === "orders.json")!.data).toMatchObject({ order_id: 1000, status: "paid" });
  });

  it("accepts a file:// URL and resource ids naming files or folders", async () => {
    const ctx = ctxFor("filesource", { config: { url: pathToFileURL(SEEDS).href }, resourceIds: ["inventory", "events.ndjson"], policy: { maxRecords: 4 } });
    const s = await filesourceAdapter.sample(ctx, { streams: [] });
    expect(s.ok && s.value.length).toBe(4);
    expect(s.ok && s.value.every((r) => r.stream === "events.ndjson" || r.stream.startsWith("inventory/products.json"))).toBe(true);
  });

  it("refuses ../ escapes, absolute paths and symlinks pointing outside the root", async () => {
    for (const id of ["../outside/secret.csv", "sub/../../outside/secret.csv", path.join(outside, "secret.csv"), "escape.csv", "escape-dir/secret.csv", "escape-dir"]) {
      const ctx = ctxFor("filesource", { config: { root }, resourceIds: [id] });
      expect(failureOf(await filesourceAdapter.discover(ctx)), id).toMatchObject({ kind: "safe_mode" });
    }
    // A schema handed to sample is not trusted either.
    const s = await filesourceAdapter.sample(ctxFor("filesource", { config: { root } }), { streams: [{ name: "escape.csv", fields: [] }] });
    expect(failureOf(s)?.kind).toBe("safe_mode");
  });

  it("skips escaping links when listing a folder and keeps links that stay inside", async () => {
    const d = await filesourceAdapter.discover(ctxFor("filesource", { config: { root } }));
    const names = d.ok ? d.value.streams.map((s) => s.name).sort() : [];
    expect(names).toEqual(["customers.csv", "sub/big.ndjson", "sub/inside-link.csv"]);
    expect(JSON.stringify(d)).not.toContain("password");
  });

  it("reads no more than the byte cap of a large file", async () => {
    const ctx = ctxFor("filesource", { config: { root }, resourceIds: ["sub/big.ndjson"], policy: { maxResponseBytes: 1_000 } });
    const s = await filesourceAdapter.sample(ctx, { streams: [] });
    // 208 bytes a line (a tiny record padded with spaces): only the 4 complete lines inside the
    // first 1000 bytes are parsed, out of 5000.
    expect(s.ok && s.value.map((r) => r.data.i)).toEqual([0, 1, 2, 3]);
  });

  it("refuses a JSON file above the byte cap as too_large", async () => {
    const ctx = ctxFor("filesource", { config: { root: SEEDS }, resourceIds: ["orders.json"], policy: { maxResponseBytes: 500 } });
    expect(failureOf(await filesourceAdapter.sample(ctx, { streams: [] }))?.kind).toBe("too_large");
  });

  it("reads Parquet: columns and types from the footer, at most 20 rows", async () => {
    const { parquetWriteBuffer } = await import("hyparquet-writer");
    const n = 60;
    const buf = parquetWriteBuffer({
      columnData: [
        { name: "id", data: Array.from({ length: n }, (_, i) => i), type: "INT32" },
        { name: "sku", data: Array.from({ length: n }, (_, i) => `SKU-${i}`), type: "STRING" },
        { name: "price", data: Array.from({ length: n }, (_, i) => i * 1.5), type: "DOUBLE" },
      ],
    });
    await fs.writeFile(path.join(root, "sub", "products.parquet"), Buffer.from(buf));
    const ctx = ctxFor("filesource", { config: { root }, resourceIds: ["sub/products.parquet"], policy: { maxRecords: 50 } });
    expect(await filesourceAdapter.healthCheck(ctx)).toMatchObject({ ok: true });
    const d = await filesourceAdapter.discover(ctx);
    if (!d.ok) throw new Error(d.error.message);
    expect(d.value.streams).toHaveLength(1);
    expect(d.value.streams[0]!.fields.map((f) => f.name)).toEqual(["id", "sku", "price"]);
    const s = await filesourceAdapter.sample(ctx, d.value);
    if (!s.ok) throw new Error(s.error.message);
    expect(s.value).toHaveLength(20);
    expect(s.value[3]!.data).toMatchObject({ id: 3, sku: "SKU-3", price: 4.5 });
  });

  it("infers merged types", () => {
    expect(inferFields([{ a: 1, b: "x" }, { a: 1.5, b: null }, { a: 2 }])).toEqual([
      { name: "a", type: "number", nullable: false },
      { name: "b", type: "string", nullable: true },
    ]);
  });

  describe("approved folders only", () => {
    it("reads a file inside an approved folder, with resource ids relative to it (no config.root needed)", async () => {
      const ctx = baseCtx("filesource", { destinations: grant([root]), resourceIds: ["customers.csv"], policy: { maxRecords: 2 } });
      const s = await filesourceAdapter.sample(ctx, { streams: [] });
      expect(s.ok && s.value.map((r) => r.stream)).toEqual(["customers.csv", "customers.csv"]);
      const sub = await filesourceAdapter.discover(baseCtx("filesource", { destinations: grant([root]), config: { root: "sub" } }));
      expect(sub.ok && sub.value.streams.map((x) => x.name).sort()).toEqual(expect.arrayContaining(["big.ndjson"]));
    });

    it("refuses a root that is not inside an approved folder as not_approved, with the folder to approve", async () => {
      const r = await filesourceAdapter.discover(ctxFor("filesource", { config: { root: outside } }));
      expect(failureOf(r)).toMatchObject({ kind: "not_approved", destination: { kind: "folder", path: await fs.realpath(outside) } });
      expect(failureOf(r)?.message).toMatch(/^Destination not approved/);
      expect(failureOf(await filesourceAdapter.discover(baseCtx("filesource", { config: { root }, destinations: grant([]) })))?.kind).toBe("not_approved");
    });

    it("outside the approved folders, every root gets the same answer: whether it exists, is a link or is the data folder is not told", async () => {
      // found in the trust-boundary audit: "does not exist", a link's real path and "holds the product's own data" told an API key about the server's files
      await fs.symlink(outside, path.join(scratch, "link-out"));
      try {
        const answers: unknown[] = [];
        for (const probe of [path.join(scratch, "no-such-folder"), path.join(scratch, "link-out"), dataDir, outside]) {
          const r = await filesourceAdapter.discover(baseCtx("filesource", { config: { root: probe }, destinations: grant([root]) }));
          const f = failureOf(r)!;
          expect(f, probe).toMatchObject({ kind: "not_approved", message: `Destination not approved: the folder ${probe} is not inside one of this tenant's approved folders` });
          answers.push({ kind: f.kind, message: f.message.replace(probe, "<root>") });
        }
        expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
      } finally {
        await fs.unlink(path.join(scratch, "link-out"));
      }
    });

    it("refuses the app's data folder even when an admin approved it or a parent of it", async () => {
      for (const approved of [[dataDir], [scratch], ["/"]]) {
        const ctx = baseCtx("filesource", { config: { root: dataDir }, resourceIds: ["secrets.json"], destinations: grant(approved) });
        const r = await filesourceAdapter.sample(ctx, { streams: [] });
        expect(failureOf(r), approved[0]).toMatchObject({ kind: "egress_refused" });
        expect(JSON.stringify(r)).not.toContain("kkkk");
      }
      // …and through a symlink inside an approved root that points at it
      await fs.symlink(dataDir, path.join(root, "data-link"));
      try {
        const r = await filesourceAdapter.sample(ctxFor("filesource", { config: { root }, resourceIds: ["data-link/secrets.json"] }), { streams: [] });
        expect(failureOf(r)?.kind).toBe("safe_mode");
        expect(JSON.stringify(r)).not.toContain("kkkk");
      } finally {
        await fs.unlink(path.join(root, "data-link"));
      }
    });

    it("refuses /etc whatever the settings", async () => {
      for (const approved of [["/etc"], ["/"]]) {
        const r = await filesourceAdapter.discover(baseCtx("filesource", { config: { root: "/etc" }, destinations: grant(approved) }));
        expect(failureOf(r), approved[0]).toMatchObject({ kind: "egress_refused", message: expect.stringContaining("/etc") });
      }
      // a symlink to /etc inside an approved root is a symlink out of the root
      await fs.symlink("/etc", path.join(root, "etc-link"));
      try {
        const r = await filesourceAdapter.discover(ctxFor("filesource", { config: { root }, resourceIds: ["etc-link"] }));
        expect(failureOf(r)?.kind).toBe("safe_mode");
      } finally {
        await fs.unlink(path.join(root, "etc-link"));
      }
    });

    it("refuses a symlink out of an approved root even when its target is approved too", async () => {
      const r = await filesourceAdapter.sample(baseCtx("filesource", { config: { root }, resourceIds: ["escape.csv"], destinations: grant([root, outside]) }), { streams: [] });
      expect(failureOf(r)).toMatchObject({ kind: "safe_mode", message: expect.stringContaining("symlink escape") });
      expect(JSON.stringify(r)).not.toContain("hunter2");
    });
  });
});

describe("filesource: a huge folder is not listed in full", () => {
  it("reads at most the cap of entries per folder, streamed", async () => {
    const { readDirBounded } = await import("./filesource");
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "aam-bigdir-"));
    try {
      await Promise.all(Array.from({ length: 600 }, (_, i) => fs.writeFile(path.join(dir, `f${i}.csv`), "")));
      expect(await readDirBounded(dir, 250)).toHaveLength(250);
      expect(await readDirBounded(dir)).toHaveLength(600);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
