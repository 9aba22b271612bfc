/**
 * IP address text → parsed address, remembered: the safe paths ask about the same few hosts and
 * rule patterns on every request of every attempt, and ipaddr.js's parsing (its IPv4 validity
 * check) was ~5% of the web process's CPU in the 10k batch. Capped LRUs (server/lib/lru.ts); the
 * parsed objects are shared, so callers must not mutate them (ipaddr's conversions return new ones).
 */
import ipaddr from "ipaddr.js";
import { lru } from "./lru";

export type Ip = ipaddr.IPv4 | ipaddr.IPv6;

const parsed = lru<string, Ip | null>(4_096);
const ranges = lru<string, [Ip, number] | null>(1_024);

/** The address `text` is, or null when it is no IP address (ipaddr.isValid's reading). */
export function ipOf(text: string): Ip | null {
  const known = parsed.get(text);
  if (known !== undefined) return known;
  const ip = ipaddr.isValid(text) ? ipaddr.parse(text) : null;
  parsed.set(text, ip);
  return ip;
}

export const isIp = (text: string): boolean => ipOf(text) !== null;

/** The CIDR range `text` is, or null when it is none. */
export function cidrOf(text: string): [Ip, number] | null {
  const known = ranges.get(text);
  if (known !== undefined) return known;
  let r: [Ip, number] | null;
  try {
    r = ipaddr.parseCIDR(text);
  } catch {
    r = null;
  }
  ranges.set(text, r);
  return r;
}
