/**
 * The trust boundary's matching rules (destinations.ts). DNS is replaced by a table so that
 * rebinding (a vendor name answering 127.0.0.1) and multi-address answers can be tested offline.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ConnectorFailure } from "../types";

const DNS: Record<string, string[]> = {
  "api.vendor.example": ["93.184.216.34"],
  "rebind.vendor.example": ["127.0.0.1"],
  "metadata-alias.vendor.example": ["169.254.169.254"],
  "nat64.vendor.example": ["64:ff9b::a9fe:a9fe"],
  "db.corp.example": ["10.1.2.3"],
  "a.corp.example": ["10.1.2.4"],
  "deep.a.corp.example": ["10.1.2.5"],
  "split.corp.example": ["10.1.2.6", "192.168.7.7"],
  "inside.corp.example": ["10.1.2.7", "10.9.9.9"],
  "public.corp.example": ["93.184.216.35"],
};

vi.mock("node:dns/promises", async (orig) => {
  const real = await orig<typeof import("node:dns/promises")>();
  const lookup = async (host: string) => {
    const a = DNS[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return a.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { ...real, lookup, default: { ...real, lookup } };
});

const { checkDestination, checkFolder, checkFolderReal, isInside, NO_DESTINATIONS, sandboxRules, validateHostPattern } = await import("./destinations");
type Grant = import("./destinations").DestinationGrant;

const rule = (pattern: string, ports: number[] = [], sourceTypes: string[] = []) => ({ pattern, ports, sourceTypes, origin: "approved" as const });
const grant = (g: Partial<Grant>): Grant => ({ ...NO_DESTINATIONS, ...g });
const check = (g: Partial<Grant>, host: string, port: number, sourceType = "postgres") => checkDestination({ sourceType, destinations: grant(g) }, host, port);
const kindOf = async (p: ReturnType<typeof check>) => {
  const r = await p;
  return r.ok ? "ok" : (r.error as ConnectorFailure).kind;
};

describe("checkDestination", () => {
  it("nothing approved: not_approved with the destination to offer, and the reason in words", async () => {
    const r = await check({}, "db.corp.example", 5432);
    expect(r).toEqual({
      ok: false,
      error: {
        kind: "not_approved",
        message: "Destination not approved: db.corp.example:5432 is neither one of this connector's vendor hosts nor on this tenant's approved destinations",
        destination: { kind: "host", host: "db.corp.example", port: 5432 },
      },
    });
  });

  it("exact host rules match the name (case and trailing dot ignored) and return the vetted address", async () => {
    expect(await check({ hosts: [rule("db.corp.example")] }, "DB.Corp.Example.", 5432)).toEqual({ ok: true, value: { address: "10.1.2.3", addresses: ["10.1.2.3"] } });
    expect(await kindOf(check({ hosts: [rule("db.corp.example")] }, "db2.corp.example", 5432))).toBe("not_approved");
    expect(await kindOf(check({ hosts: [rule("db.corp.example")] }, "db.corp.example.evil.example", 5432))).toBe("not_approved");
  });

  it("wildcards match subdomains at any depth, never the bare domain or a look-alike suffix", async () => {
    const hosts = [rule("*.corp.example")];
    expect(await kindOf(check({ hosts }, "a.corp.example", 5432))).toBe("ok");
    expect(await kindOf(check({ hosts }, "deep.a.corp.example", 5432))).toBe("ok");
    expect(await kindOf(check({ hosts }, "corp.example", 5432))).toBe("not_approved");
    expect(await kindOf(check({ hosts }, "evilcorp.example", 5432))).toBe("not_approved");
  });

  it("ports: a rule with ports allows only those; an empty list allows any", async () => {
    expect(await kindOf(check({ hosts: [rule("db.corp.example", [5432])] }, "db.corp.example", 5432))).toBe("ok");
    expect(await kindOf(check({ hosts: [rule("db.corp.example", [5432])] }, "db.corp.example", 5433))).toBe("not_approved");
    expect(await kindOf(check({ hosts: [rule("db.corp.example", [])] }, "db.corp.example", 1))).toBe("ok");
  });

  it("source types: a rule for mysql does not open the host to postgres", async () => {
    const hosts = [rule("db.corp.example", [], ["mysql", "jdbc"])];
    expect(await kindOf(check({ hosts }, "db.corp.example", 3306, "jdbc"))).toBe("ok");
    expect(await kindOf(check({ hosts }, "db.corp.example", 3306, "postgres"))).toBe("not_approved");
  });

  it("CIDR rules: every address the name resolves to must be inside an approved range", async () => {
    const hosts = [rule("10.1.0.0/16")];
    expect(await kindOf(check({ hosts }, "db.corp.example", 5432))).toBe("ok");
    expect(await kindOf(check({ hosts }, "inside.corp.example", 5432))).toBe("not_approved"); // 10.9.9.9 is outside
    expect(await kindOf(check({ hosts }, "split.corp.example", 5432))).toBe("not_approved"); // 192.168.7.7 is outside
    expect(await kindOf(check({ hosts: [rule("10.0.0.0/8"), rule("192.168.7.0/24")] }, "split.corp.example", 5432))).toBe("ok");
    expect(await kindOf(check({ hosts }, "10.1.200.1", 5432))).toBe("ok");
    expect(await kindOf(check({ hosts }, "10.2.0.1", 5432))).toBe("not_approved");
    expect(await kindOf(check({ hosts: [rule("10.1.2.3")] }, "db.corp.example", 5432))).toBe("ok"); // a single IP rule
    expect(await kindOf(check({ hosts: [rule("10.1.0.0/16", [5432])] }, "db.corp.example", 6543))).toBe("not_approved");
  });

  it("approved private destinations still never reach link-local/metadata", async () => {
    expect(await kindOf(check({ hosts: [rule("169.254.0.0/16")] }, "169.254.169.254", 80))).toBe("egress_refused");
    expect(await kindOf(check({ hosts: [rule("metadata-alias.vendor.example")] }, "metadata-alias.vendor.example", 80))).toBe("egress_refused");
    expect(await kindOf(check({ hosts: [rule("nat64.vendor.example")] }, "nat64.vendor.example", 80))).toBe("egress_refused");
  });

  it("catalog vendor hosts: public addresses only; a vendor name that resolves to loopback is DNS rebinding", async () => {
    expect(await check({ catalogHosts: ["api.vendor.example"] }, "api.vendor.example", 443)).toMatchObject({ ok: true, value: { address: "93.184.216.34" } });
    expect(await kindOf(check({ catalogHosts: ["*.vendor.example"] }, "rebind.vendor.example", 443))).toBe("egress_refused");
    // even when the tenant also approved loopback: the vendor match is judged as a vendor host
    expect(await kindOf(check({ catalogHosts: ["rebind.vendor.example"], hosts: [rule("127.0.0.0/8")] }, "rebind.vendor.example", 443))).toBe("egress_refused");
    // catalog patterns with a port pin it
    expect(await kindOf(check({ catalogHosts: ["api.vendor.example:8443"] }, "api.vendor.example", 443))).toBe("not_approved");
    expect(await kindOf(check({ catalogHosts: ["api.vendor.example:8443"] }, "api.vendor.example", 8443))).toBe("ok");
  });

  it("catalog vendor hosts over HTTP: https on 443 only (or the catalog's own port); plain http is refused outright, never offered for approval", async () => {
    const vendor = { catalogHosts: ["api.vendor.example", "*.vendor.example"] };
    const https = (host: string, port: number, g: Partial<Grant> = vendor) => checkDestination({ sourceType: "github", destinations: grant(g) }, host, port, "https:");
    const plain = (host: string, port: number, g: Partial<Grant> = vendor) => checkDestination({ sourceType: "github", destinations: grant(g) }, host, port, "http:");
    expect(await kindOf(https("api.vendor.example", 443))).toBe("ok");
    expect(await kindOf(https("api.vendor.example", 8443, { catalogHosts: ["api.vendor.example:8443"] }))).toBe("ok");
    // another port of a vendor host over TLS is not the vendor's API: not approved (an admin may approve it)
    expect(await kindOf(https("api.vendor.example", 8443))).toBe("not_approved");
    // plain http to a vendor name: refused at any port, even when the tenant approved the name
    for (const [host, port] of [["api.vendor.example", 80], ["api.vendor.example", 443], ["deep.api.vendor.example", 8080]] as const) {
      const r = await plain(host, port);
      expect(r, `${host}:${port}`).toMatchObject({ ok: false, error: { kind: "egress_refused", message: expect.stringContaining("https only") } });
    }
    expect(await kindOf(plain("api.vendor.example", 80, { ...vendor, hosts: [rule("api.vendor.example")] }))).toBe("egress_refused");
    expect(await kindOf(plain("api.vendor.example", 8443, { catalogHosts: ["api.vendor.example:8443"] }))).toBe("egress_refused");
    // http to a host that is not the vendor's stays the tenant's policy (an approved on-premises service)
    expect(await kindOf(plain("db.corp.example", 8080, { ...vendor, hosts: [rule("db.corp.example")] }))).toBe("ok");
    // a wire protocol of its own (no scheme): a catalog host without a port allows any port
    expect(await kindOf(check({ catalogHosts: ["api.vendor.example"] }, "api.vendor.example", 27017))).toBe("ok");
  });

  it("an approved name that does not resolve is a network failure, not an approval", async () => {
    expect(await kindOf(check({ hosts: [rule("gone.corp.example")] }, "gone.corp.example", 5432))).toBe("network");
  });
});

describe("validateHostPattern", () => {
  it.each(["db.corp.example", "*.corp.example", "10.0.0.0/8", "10.1.2.3", "::1", "fd00::/64"])("accepts %s", (p) => {
    expect(validateHostPattern(p)).toBeUndefined();
  });
  it.each(["", "*", "*.example", "0.0.0.0/0", "10.0.0.0/4", "::/0", "a..b", "http://x", "db.corp.example/"])("refuses %s", (p) => {
    expect(validateHostPattern(p)).toBeTypeOf("string");
  });
});

describe("folders", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "aam-dest-")));
    await fs.mkdir(path.join(dir, "approved", "sub"), { recursive: true });
    await fs.mkdir(path.join(dir, "data"));
    await fs.symlink(path.join(dir, "approved"), path.join(dir, "alias"));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  const folderGrant = (folders: string[], forbidden: string[] = []): Grant =>
    grant({ folders: folders.map((p) => ({ path: p, sourceTypes: ["filesource"], origin: "approved" as const })), forbiddenFolders: forbidden });

  it("isInside is path-segment aware", () => {
    expect(isInside("/a/b", "/a/b")).toBe(true);
    expect(isInside("/a/b", "/a/b/c")).toBe(true);
    expect(isInside("/a/b", "/a/bc")).toBe(false);
    expect(isInside("/a/b", "/a")).toBe(false);
  });

  it("allows realpaths inside an approved folder and names the folder otherwise", () => {
    const ctx = { sourceType: "filesource", destinations: folderGrant([path.join(dir, "approved")]) };
    expect(checkFolder(ctx, path.join(dir, "approved", "sub"))).toEqual({ ok: true, value: { root: path.join(dir, "approved") } });
    expect(checkFolder(ctx, path.join(dir, "approvedX"))).toMatchObject({ ok: false, error: { kind: "not_approved", destination: { kind: "folder", path: path.join(dir, "approvedX") } } });
    expect(checkFolder({ ...ctx, sourceType: "s3" }, path.join(dir, "approved"))).toMatchObject({ ok: false, error: { kind: "not_approved" } });
  });

  it("the data folder and system folders are refused whatever the rules", async () => {
    const data = path.join(dir, "data");
    const ctx = { sourceType: "filesource", destinations: folderGrant(["/", dir], [data]) };
    expect(checkFolder(ctx, data)).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    expect(checkFolder(ctx, path.join(data, "secrets.json"))).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    expect(checkFolder(ctx, dir)).toMatchObject({ ok: false, error: { kind: "egress_refused" } }); // a root containing the data folder
    for (const p of ["/etc", "/etc/passwd", "/proc/self/environ", "/root/.ssh"]) {
      expect(checkFolder(ctx, p), p).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
      expect(await checkFolderReal(ctx, p), p).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    }
  });

  it("checkFolderReal resolves symlinked rule paths and forbidden folders", async () => {
    const viaAlias = { sourceType: "filesource", destinations: folderGrant([path.join(dir, "alias")]) };
    expect(checkFolder(viaAlias, path.join(dir, "approved", "sub")).ok).toBe(false);
    expect(await checkFolderReal(viaAlias, path.join(dir, "approved", "sub"))).toMatchObject({ ok: true });
    const forbiddenAlias = { sourceType: "filesource", destinations: folderGrant([dir], [path.join(dir, "alias")]) };
    expect(await checkFolderReal(forbiddenAlias, path.join(dir, "approved", "sub"))).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
  });

  it("sandbox endpoints become host rules (host+port) and folder rules", () => {
    const r = sandboxRules({ github: "http://127.0.0.1:4510/github", s3: "http://127.0.0.1:4511", files: "/srv/sandbox/files", postgres: "postgresql://127.0.0.1:54329" });
    expect(r.hosts).toEqual([
      { pattern: "127.0.0.1", ports: [4510], sourceTypes: [], origin: "sandbox" },
      { pattern: "127.0.0.1", ports: [4511], sourceTypes: [], origin: "sandbox" },
      // the sandbox schema's PostgreSQL: for the PostgreSQL-protocol source types only
      { pattern: "127.0.0.1", ports: [54329], sourceTypes: ["postgres", "supabase", "redshift", "jdbc"], origin: "sandbox" },
    ]);
    expect(r.folders).toEqual([{ path: "/srv/sandbox/files", sourceTypes: ["filesource"], origin: "sandbox" }]);
  });
});
