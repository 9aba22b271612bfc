/**
 * The trust boundary at the edge of the process (DESIGN.md "The trust boundary"): where one
 * connection may connect. An intent only proposes; a destination is permitted when it is
 *  - one of the catalog entry's hosts, filled with validated config fields (public addresses only:
 *    a vendor host that resolves to a private address is DNS rebinding, not the vendor), or
 *  - on the tenant's admin-approved destinations for this source type (host pattern or CIDR range,
 *    with ports; private addresses allowed, link-local/metadata never), or
 *  - a sandbox endpoint while the sandboxes run (the embedded default approves only those).
 * Everything else is refused before a byte is sent, as "destination not approved". Because every
 * request of a connection passes here, the secret resolved for that connection can only reach
 * these hosts. Folders (filesource) are approved the same way, and the app's data folder never is.
 */
import type { LookupFunction } from "node:net";
import fs from "node:fs/promises";
import path from "node:path";
import ipaddr from "ipaddr.js";
import { cidrOf, ipOf, isIp } from "../../lib/ip";
import { err, ok } from "../../lib/result";
import type { ConnectorContext, ConnectorResult } from "../types";
import { checkEgress } from "./egress";

/** An admin-approved destination: a host pattern (`db.corp.example`, `*.corp.example`) or an IP/CIDR, with ports. */
export type HostRule = {
  pattern: string;
  /** empty = any port */
  ports: readonly number[];
  /** empty = any source type */
  sourceTypes: readonly string[];
  /** where the rule came from, for messages: "approved" (tenant admin) or "sandbox" */
  origin: "approved" | "sandbox";
};

export type FolderRule = { path: string; sourceTypes: readonly string[]; origin: "approved" | "sandbox" };

/** Everything one connection may reach. Built once per attempt by the pipeline. */
export type DestinationGrant = {
  /** the catalog's host patterns for this connection (entry.allowedHosts filled with validated config) */
  catalogHosts: readonly string[];
  hosts: readonly HostRule[];
  folders: readonly FolderRule[];
  /** folders no rule can open (the app's data folder) */
  forbiddenFolders: readonly string[];
  /**
   * The attempt's credential is an install-wide secret the operator shares with every tenant
   * (`env:AAM_SECRET_<NAME>`, this locator), used by another organisation than the install's own:
   * it goes only to the connector's vendor hosts (and a running sandbox), never to a host that
   * organisation's admin approved — that host is theirs to choose, the secret is not.
   */
  installWideSecret?: string;
};

export const NO_DESTINATIONS: DestinationGrant = { catalogHosts: [], hosts: [], folders: [], forbiddenFolders: [] };

/** The destination a failure was about: what the connection page offers to approve. */
export type BlockedDestination = { kind: "host"; host: string; port: number } | { kind: "folder"; path: string };

const HOST_PATTERN_RE = /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A rule's pattern, checked: a hostname, `*.` + hostname, an IP address or a CIDR range. Returns the reason when invalid. */
export function validateHostPattern(pattern: string): string | undefined {
  const p = pattern.trim().toLowerCase();
  if (p === "" || p.length > 253) return "must be a host name, *.domain, an IP address or a CIDR range";
  if (p.includes("/")) {
    try {
      const [addr, bits] = ipaddr.parseCIDR(p);
      if (addr.kind() === "ipv4" ? bits < 8 : bits < 32) return "a CIDR range this wide is not accepted (at most /8 for IPv4, /32 for IPv6)";
      return undefined;
    } catch {
      return "is not a valid CIDR range";
    }
  }
  if (ipaddr.isValid(p.replace(/^\[|\]$/g, ""))) return undefined;
  if (p === "*" || p.startsWith("*.") && !p.slice(2).includes(".")) return "a wildcard must keep at least two labels (*.corp.example)";
  return HOST_PATTERN_RE.test(p) ? undefined : "must be a host name, *.domain, an IP address or a CIDR range";
}

const bare = (host: string) => host.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");

/** `host` matches a hostname pattern (`*.x` matches subdomains only). IPs match literally. */
function nameMatches(pattern: string, host: string): boolean {
  const p = bare(pattern);
  const h = bare(host);
  if (p.startsWith("*.")) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  const pi = ipOf(p);
  const hi = pi ? ipOf(h) : null;
  if (pi && hi) return pi.toNormalizedString() === hi.toNormalizedString();
  return p === h;
}

function addressInRule(pattern: string, address: string): boolean {
  const p = bare(pattern);
  let a = ipOf(bare(address));
  if (!a) return false;
  if (a.kind() === "ipv6" && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  try {
    if (p.includes("/")) {
      const range = cidrOf(p);
      return range !== null && a.kind() === range[0].kind() && a.match(range);
    }
    const pb = ipOf(p);
    if (pb) {
      let b = pb;
      if (b.kind() === "ipv6" && (b as ipaddr.IPv6).isIPv4MappedAddress()) b = (b as ipaddr.IPv6).toIPv4Address();
      return a.kind() === b.kind() && a.toNormalizedString() === b.toNormalizedString();
    }
  } catch {
    return false;
  }
  return false;
}

/**
 * Catalog host patterns may carry a port (`host:8443`). Without one: for a request over https,
 * port 443 only; for a protocol of its own (a database or MongoDB wire), any port.
 */
function catalogMatches(pattern: string, host: string, port: number, scheme?: Scheme): boolean {
  const m = /^(.*?)(?::(\d+))?$/.exec(pattern.toLowerCase());
  const name = m?.[1] ?? pattern;
  if (m?.[2] ? Number(m[2]) !== port : scheme === "https:" && port !== 443) return false;
  return nameMatches(name, host);
}

/** The scheme of an HTTP request whose destination is checked (a wire protocol of its own has none). */
export type Scheme = "http:" | "https:";

/** True when `host` is one of the connector's own vendor hosts by name (any port). */
export const isVendorHost = (g: DestinationGrant, host: string) => g.catalogHosts.some((p) => nameMatches(p.replace(/:\d+$/, "").toLowerCase(), bare(host)));

/**
 * An API base a driver appends each endpoint's path (and query) to — `config.base_url`, a token's
 * instance URL — checked before anything is sent: http(s), no credentials, no query or fragment
 * (`https://slack.com/api/auth.revoke?x=` would make every request one the intent chose), and on a
 * host of the catalog's vendor exactly the catalog's own base path (`catalogPath`; another path
 * there is another API of the vendor, an admin endpoint or a write through GET). `label` names the
 * value in the refusal. The REST, OpenAPI and Salesforce drivers share it (trust-boundary audit).
 */
export function checkApiBase(g: DestinationGrant, raw: string, opts: { label: string; vendor: string; catalogPath: string | undefined }): ConnectorResult<URL> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return err({ kind: "other", message: `${opts.label} is not a URL` });
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return err({ kind: "egress_refused", message: `${opts.label} must be an http(s) URL` });
  if (u.username || u.password) return err({ kind: "safe_mode", message: "credentials in URLs are refused in Safe Mode" });
  if (raw.includes("?") || raw.includes("#")) {
    return err({ kind: "safe_mode", message: `${opts.label} may not carry a query or a fragment: it is the API's base, and the connector adds each endpoint's path and query to it` });
  }
  const trimmed = (p: string) => p.replace(/\/+$/, "");
  if (isVendorHost(g, u.hostname) && (opts.catalogPath === undefined || trimmed(u.pathname) !== trimmed(opts.catalogPath))) {
    return err({ kind: "egress_refused", message: `${opts.label} names the vendor's own host (${u.host}) with another path than the ${opts.vendor} API's (${opts.catalogPath === undefined ? "none in the catalog" : trimmed(opts.catalogPath) || "/"}): the credential is never sent there` });
  }
  return ok(u);
}

/**
 * True when `host` is a vendor host only by a wildcard of the catalog (`*.zendesk.com`,
 * `*.service-now.com`): some customer's instance of the vendor, not a host the catalog names.
 */
export const isWildcardVendorHost = (g: DestinationGrant, host: string): boolean => {
  const h = bare(host);
  const names = g.catalogHosts.map((p) => p.replace(/:\d+$/, "").toLowerCase());
  return !names.some((p) => !p.startsWith("*.") && nameMatches(p, h)) && names.some((p) => p.startsWith("*.") && nameMatches(p, h));
};

const ruleFor = (rules: readonly HostRule[], sourceType: string) => rules.filter((r) => r.sourceTypes.length === 0 || r.sourceTypes.includes(sourceType));
const portOk = (r: HostRule, port: number) => r.ports.length === 0 || r.ports.includes(port);

export function notApprovedMessage(host: string, port: number): string {
  return `Destination not approved: ${host}:${port} is neither one of this connector's vendor hosts nor on this tenant's approved destinations`;
}

/**
 * Which of the grant's rules let `host:port` through, by name alone (no lookup): a catalog host
 * of the connector (public addresses only), an approved name or wildcard, approved ranges whose
 * answer depends on the addresses the name resolves to, or none.
 */
export type RuleMatch = { by: "catalog" } | { by: "name" } | { by: "address"; cidr: HostRule[] } | { by: "none" };

export function matchRules(ctx: Pick<ConnectorContext, "sourceType" | "destinations">, host: string, port: number, scheme?: Scheme): RuleMatch {
  const g = ctx.destinations;
  const h = bare(host);
  if (g.catalogHosts.some((p) => catalogMatches(p, h, port, scheme))) return { by: "catalog" };
  const rules = ruleFor(g.installWideSecret ? g.hosts.filter((r) => r.origin !== "approved") : g.hosts, ctx.sourceType).filter((r) => portOk(r, port));
  if (rules.some((r) => nameMatches(r.pattern, h))) return { by: "name" };
  const cidr = rules.filter((r) => r.pattern.includes("/") || isIp(bare(r.pattern)));
  return cidr.length ? { by: "address", cidr } : { by: "none" };
}

/**
 * Checks that `host:port` is a permitted destination of this connection, then runs the egress
 * guard on every address it resolves to. Returns the vetted address to connect to (pin it: never
 * resolve again). Refusals are `not_approved` (NETWORK_BLOCKED "destination not approved") or
 * `egress_refused`.
 */
export async function checkDestination(
  ctx: Pick<ConnectorContext, "sourceType" | "destinations">,
  host: string,
  port: number,
  scheme?: Scheme,
): Promise<ConnectorResult<{ address: string; addresses: string[] }>> {
  const h = bare(host);
  // a vendor's own host is reached over TLS only: plain http would hand the credential to anyone on
  // the path (an intent's `base_url: http://api.github.com`, a page's `next` link), and it is
  // refused outright — never offered for approval as a destination
  if (scheme === "http:" && isVendorHost(ctx.destinations, h)) {
    return err({ kind: "egress_refused", message: `${h} is a host of the ${ctx.sourceType} connector's vendor: it is reached over https only (port 443 unless the catalog names another), never plain http` });
  }
  const m = matchRules(ctx, h, port, scheme);
  // a vendor host: public addresses only
  if (m.by === "catalog") return checkEgress(h, { allowPrivateNetworks: false });
  if (m.by === "name") return checkEgress(h, { allowPrivateNetworks: true });
  if (m.by === "none") {
    // approving the host would not help: say what would
    if (ctx.destinations.installWideSecret) {
      return err({
        kind: "egress_refused",
        message: `${h}:${port} is not a host the catalog names for the ${ctx.sourceType} connector's vendor, and ${ctx.destinations.installWideSecret} is a secret this install shares with every organisation: outside the install's own organisation it goes only to the vendor's hosts the catalog names (not to an instance or subdomain named in the connection's config). For a host your admin approved, or your own instance, use this organisation's own secret (an env: name with the organisation's prefix, or vault:)`,
      });
    }
    return blocked(h, port);
  }
  // CIDR/IP rules: every address the name resolves to must be inside an approved range
  const cidr = m.cidr;
  const vetted = await checkEgress(h, { allowPrivateNetworks: true });
  if (!vetted.ok) return vetted;
  if (!vetted.value.addresses.every((a) => cidr.some((r) => addressInRule(r.pattern, a)))) return blocked(h, port);
  return vetted;
}

function blocked(host: string, port: number): ConnectorResult<never> {
  return err({ kind: "not_approved", message: notApprovedMessage(host, port), destination: { kind: "host", host, port } });
}

/** True when `real` (a realpath) is inside `root` (a realpath). */
export function isInside(root: string, real: string): boolean {
  const rel = path.relative(root, real);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * The approved root folder that contains `real` (already a realpath: symlinks resolved), or a
 * refusal. The data folder is refused whatever the rules say.
 */
export function checkFolder(ctx: Pick<ConnectorContext, "sourceType" | "destinations">, real: string): ConnectorResult<{ root: string }> {
  const g = ctx.destinations;
  if (g.forbiddenFolders.some((f) => isInside(f, real) || isInside(real, f))) {
    return err({ kind: "egress_refused", message: "This folder holds the product's own data and is never readable by a connector" });
  }
  if (SYSTEM_FOLDERS.some((f) => isInside(f, real))) {
    return err({ kind: "egress_refused", message: "System folders (/etc, /proc, /sys, /dev, /boot, /root, /run) are never readable by a connector" });
  }
  const root = g.folders.filter((f) => f.sourceTypes.length === 0 || f.sourceTypes.includes(ctx.sourceType)).find((f) => isInside(f.path, real));
  if (!root) {
    return err({
      kind: "not_approved",
      message: `Destination not approved: the folder ${real} is not inside one of this tenant's approved folders`,
      destination: { kind: "folder", path: real },
    });
  }
  return ok({ root: root.path });
}

/** Folders no approval opens (with their realpaths, so a symlinked alias is caught too). */
const SYSTEM_FOLDERS = ["/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/run", "/var/run"];

const realOr = async (p: string): Promise<string> => {
  try {
    return await fs.realpath(path.resolve(p));
  } catch {
    return path.resolve(p);
  }
};

/**
 * `checkFolder` with the grant's own folders (approved roots, forbidden folders) resolved to
 * realpaths first, so `/tmp/x` approved on a system where /tmp is a symlink still matches and a
 * data folder reached through a symlink is still refused. `real` must already be a realpath.
 */
export async function checkFolderReal(ctx: Pick<ConnectorContext, "sourceType" | "destinations">, real: string): Promise<ConnectorResult<{ root: string }>> {
  return (await folderCheckReal(ctx))(real);
}

/** A folder check bound to one grant; `approvedRoots`: the grant's approved folders for the source type, as written and resolved. */
export type BoundFolderCheck = ((real: string) => ConnectorResult<{ root: string }>) & { approvedRoots: readonly string[] };

/** `checkFolderReal` with the grant's folders resolved once, for many checks against one grant (a session's files). */
export async function folderCheckReal(ctx: Pick<ConnectorContext, "sourceType" | "destinations">): Promise<BoundFolderCheck> {
  const g = ctx.destinations;
  const resolved: DestinationGrant = {
    ...g,
    folders: await Promise.all(g.folders.map(async (f) => ({ ...f, path: await realOr(f.path) }))),
    forbiddenFolders: [...g.forbiddenFolders, ...(await Promise.all(g.forbiddenFolders.map(realOr)))],
  };
  const sys = await Promise.all(SYSTEM_FOLDERS.map(realOr));
  const check = (real: string): ConnectorResult<{ root: string }> => {
    if (sys.some((f) => isInside(f, real))) {
      return err({ kind: "egress_refused", message: "System folders (/etc, /proc, /sys, /dev, /boot, /root, /run) are never readable by a connector" });
    }
    return checkFolder({ sourceType: ctx.sourceType, destinations: resolved }, real);
  };
  const forType = (f: FolderRule) => f.sourceTypes.length === 0 || f.sourceTypes.includes(ctx.sourceType);
  const approvedRoots = [...g.folders.filter(forType).map((f) => path.resolve(f.path)), ...resolved.folders.filter(forType).map((f) => f.path)];
  return Object.assign(check, { approvedRoots });
}

/** Host rules for running sandboxes, from their endpoints (`http://127.0.0.1:4510/github`, a folder path). */
export function sandboxRules(endpoints: Record<string, string> | undefined): { hosts: HostRule[]; folders: FolderRule[] } {
  const hosts: HostRule[] = [];
  const folders: FolderRule[] = [];
  for (const v of Object.values(endpoints ?? {})) {
    if (path.isAbsolute(v)) {
      folders.push({ path: v, sourceTypes: ["filesource"], origin: "sandbox" });
      continue;
    }
    try {
      const u = new URL(v);
      const sql = u.protocol === "postgresql:" || u.protocol === "postgres:";
      const port = Number(u.port || (u.protocol === "https:" ? 443 : u.protocol === "http:" ? 80 : sql ? 5432 : 0));
      // the sandbox schema's server is approved for the PostgreSQL-protocol source types only
      const sourceTypes = sql ? ["postgres", "supabase", "redshift", "jdbc"] : [];
      if (!hosts.some((h) => h.pattern === bare(u.hostname) && h.ports.includes(port) && h.sourceTypes.join() === sourceTypes.join())) {
        hosts.push({ pattern: bare(u.hostname), ports: [port], sourceTypes, origin: "sandbox" });
      }
    } catch {
      /* not a URL: nothing to approve */
    }
  }
  return { hosts, folders };
}

/**
 * A `lookup` for Node sockets/agents that never asks DNS on its own: the host already vetted
 * answers its vetted address (pinned); any other name (an S3 virtual-hosted bucket name, a
 * redirect) is vetted through `checkDestination` first and refused when not permitted.
 */
export function pinnedLookup(
  ctx: Pick<ConnectorContext, "sourceType" | "destinations">,
  port: number,
  vetted: { host: string; address: string },
): LookupFunction {
  const family = (a: string) => (ipOf(a)?.kind() === "ipv6" ? 6 : 4);
  const answer = (address: string, options: unknown, cb: (e: NodeJS.ErrnoException | null, a: string | { address: string; family: number }[], f?: number) => void) => {
    if ((options as { all?: boolean } | undefined)?.all) cb(null, [{ address, family: family(address) }]);
    else cb(null, address, family(address));
  };
  return (hostname, options, callback) => {
    const cb = callback as unknown as Parameters<typeof answer>[2];
    const h = bare(hostname);
    if (h === bare(vetted.host)) return answer(vetted.address, options, cb);
    void checkDestination(ctx, h, port).then((r) => {
      if (r.ok) answer(r.value.addresses.find((a) => family(a) === 4) ?? r.value.address, options, cb);
      else cb(Object.assign(new Error(r.error.message), { code: "ENOTFOUND" }), "", 0);
    });
  };
}
