/**
 * Egress guard (SSRF): every adapter resolves its target through here before connecting.
 * Link-local (169.254.0.0/16, fe80::/10, incl. cloud metadata 169.254.169.254 / fd00:ec2::254),
 * unspecified, multicast and reserved ranges are always refused; loopback and private ranges only
 * when the policy allows private networks (sandbox, on-prem sources).
 */
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { err, ok } from "../../lib/result";
import type { ConnectorResult, SafetyPolicy } from "../types";

const ALWAYS_REFUSED = new Set(["unspecified", "linkLocal", "multicast", "broadcast", "reserved", "carrierGradeNat"]);
const PRIVATE = new Set(["loopback", "private", "uniqueLocal", "ipv4Mapped"]);
const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"]);

export type EgressDecision = { allowed: true } | { allowed: false; reason: string };

export function classifyAddress(address: string, policy: Pick<SafetyPolicy, "allowPrivateNetworks">): EgressDecision {
  if (!ipaddr.isValid(address)) return { allowed: false, reason: `not an IP address: ${address}` };
  let ip = ipaddr.parse(address);
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  if (address === "fd00:ec2::254" || ALWAYS_REFUSED.has(range)) {
    return { allowed: false, reason: `address ${address} is in a refused range (${range})` };
  }
  if (PRIVATE.has(range) && !policy.allowPrivateNetworks) {
    return { allowed: false, reason: `address ${address} is private (${range}); private networks are not allowed for this connection` };
  }
  return { allowed: true };
}

/** Resolves `host` and checks every address it resolves to. Returns the first allowed address. */
export async function checkEgress(host: string, policy: Pick<SafetyPolicy, "allowPrivateNetworks">): Promise<ConnectorResult<{ address: string }>> {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (METADATA_HOSTS.has(h)) return err({ kind: "egress_refused", message: `host ${host} is a cloud metadata endpoint` });
  let addresses: string[];
  if (ipaddr.isValid(h)) addresses = [h];
  else {
    try {
      addresses = (await lookup(h, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return err({ kind: "network", message: `could not resolve host ${host}` });
    }
  }
  for (const a of addresses) {
    const d = classifyAddress(a, policy);
    if (!d.allowed) return err({ kind: "egress_refused", message: `egress refused for ${host}: ${d.reason}` });
  }
  return ok({ address: addresses[0]! });
}
