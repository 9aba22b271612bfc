/**
 * Egress guard (SSRF): every connection's target passes here (through destinations.ts) before
 * anything is sent. Only public unicast addresses are allowed for vendor hosts; loopback and
 * private ranges only for admin-approved destinations; link-local (cloud metadata 169.254.169.254,
 * fd00:ec2::254), unspecified (0.0.0.0/8, ::), multicast, broadcast and reserved ranges never.
 * IPv6 forms that carry an IPv4 address (IPv4-mapped and -compatible, NAT64 64:ff9b::/96, SIIT,
 * 6to4, Teredo) are judged by the IPv4 address inside them, so a refused range cannot be reached
 * through a translation prefix. The caller connects to the vetted address (pinned), never
 * resolving the name again.
 */
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { isIp } from "../../lib/ip";
import { lru } from "../../lib/lru";
import { err, ok } from "../../lib/result";
import type { ConnectorResult } from "../types";

/** Ranges a private-network destination may use (still never link-local or metadata). */
const PRIVATE = new Set(["loopback", "private", "uniqueLocal", "carrierGradeNat", "deprecatedSiteLocal"]);
const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"]);
const METADATA_ADDRESSES = new Set(["fd00:ec2::254", "fd00:ec2:0:0:0:0:0:254"]);

export type EgressPolicy = { allowPrivateNetworks: boolean };
export type EgressDecision = { allowed: true } | { allowed: false; reason: string };

const v4 = (n: number) => ipaddr.fromByteArray([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]) as ipaddr.IPv4;

/** The IPv4 addresses an IPv6 address carries (mapped/compatible/NAT64/SIIT/6to4/Teredo), or undefined. */
export function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  const p = ip.parts; // 8 × 16-bit
  const last32 = ((p[6]! << 16) | p[7]!) >>> 0;
  const range = ip.range();
  if (range === "ipv4Mapped" || range === "rfc6145") return [v4(last32)];
  // IPv4-compatible ::a.b.c.d (deprecated, but some stacks still route it)
  if (p.slice(0, 6).every((x) => x === 0) && last32 > 1) return [v4(last32)];
  if (range === "rfc6052") {
    // 64:ff9b::/96 well-known prefix: the last 32 bits; the local-use 64:ff9b:1::/48 may embed anywhere: refuse as opaque
    if (p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => x === 0)) return [v4(last32)];
    return [];
  }
  if (range === "6to4") return [v4(((p[1]! << 16) | p[2]!) >>> 0)];
  if (range === "teredo") return [v4(((p[2]! << 16) | p[3]!) >>> 0), v4(~last32 >>> 0)];
  return undefined;
}

/** The decision for a range name (IPv4 or IPv6): public unicast, private (approved only), or refused. */
function byRange(range: string, address: string, policy: EgressPolicy): EgressDecision {
  if (range === "unicast") return { allowed: true };
  if (PRIVATE.has(range)) {
    return policy.allowPrivateNetworks
      ? { allowed: true }
      : { allowed: false, reason: `address ${address} is private (${range}); only approved destinations may be on private networks` };
  }
  return { allowed: false, reason: `address ${address} is in a refused range (${range})` };
}

const classifyV4 = (ip: ipaddr.IPv4, address: string, policy: EgressPolicy) => byRange(ip.range(), address, policy);

/**
 * IPv6 text in the form the OS will use (WHATWG/`inet_pton` reading): ipaddr.js reads
 * `::127.0.0.1` as IPv4-mapped `::ffff:7f00:1`, while the socket layer reads IPv4-compatible
 * `::7f00:1`; judging one address and connecting to another is how guards are bypassed.
 */
function canonical(a: string): string {
  if (!a.includes(":")) return a;
  try {
    return new URL(`http://[${a}]/`).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return a;
  }
}

/**
 * The decision is a pure function of the address text and the policy, and the same few addresses
 * come back on every request of every attempt: decided once, kept in a capped LRU (parsing with
 * ipaddr.js was ~4% of the web process's CPU in the 10k batch).
 */
const decided = lru<string, EgressDecision>(4_096);

export function classifyAddress(address: string, policy: EgressPolicy): EgressDecision {
  const key = `${policy.allowPrivateNetworks ? 1 : 0}|${address}`;
  const known = decided.get(key);
  if (known) return known;
  const d = decide(address, policy);
  decided.set(key, d);
  return d;
}

function decide(address: string, policy: EgressPolicy): EgressDecision {
  const a = canonical(address.replace(/^\[|\]$/g, ""));
  if (!ipaddr.isValid(a)) return { allowed: false, reason: `not an IP address: ${address}` };
  const ip = ipaddr.parse(a);
  if (ip.kind() === "ipv4") return classifyV4(ip as ipaddr.IPv4, address, policy);
  const v6 = ip as ipaddr.IPv6;
  if (METADATA_ADDRESSES.has(v6.toNormalizedString()) || v6.toNormalizedString() === "fd00:ec2:0:0:0:0:0:254") {
    return { allowed: false, reason: `address ${address} is a cloud metadata endpoint` };
  }
  const inner = embeddedIPv4(v6);
  if (inner) {
    if (inner.length === 0) return { allowed: false, reason: `address ${address} is in a refused range (${v6.range()})` };
    // An IPv4-mapped address is the IPv4 address itself (dual-stack sockets); translated forms
    // (compatible, NAT64, SIIT, 6to4, Teredo) may only carry public IPv4: a private or loopback
    // address behind a translation prefix is never a legitimate approved destination.
    const inner4Policy = v6.isIPv4MappedAddress() ? policy : { allowPrivateNetworks: false };
    for (const x of inner) {
      const d = classifyV4(x, `${address} (carrying ${x.toString()})`, inner4Policy);
      if (!d.allowed) return d;
    }
    return { allowed: true };
  }
  return byRange(v6.range(), address, policy);
}

/** Resolves `host` and checks every address it resolves to. Returns the first (vetted) address and all of them. */
export async function checkEgress(host: string, policy: EgressPolicy): Promise<ConnectorResult<{ address: string; addresses: string[] }>> {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
  if (METADATA_HOSTS.has(h)) return err({ kind: "egress_refused", message: `host ${host} is a cloud metadata endpoint` });
  let addresses: string[];
  if (isIp(h)) addresses = [h];
  else {
    try {
      addresses = (await lookup(h, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return err({ kind: "network", message: `could not resolve host ${host}` });
    }
  }
  if (addresses.length === 0) return err({ kind: "network", message: `could not resolve host ${host}` });
  for (const a of addresses) {
    const d = classifyAddress(a, policy);
    if (!d.allowed) return err({ kind: "egress_refused", message: `egress refused for ${host}: ${d.reason}` });
  }
  return ok({ address: addresses[0]!, addresses });
}
