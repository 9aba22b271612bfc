/**
 * Bounded in-memory maps. Every process-wide map keyed by something an API caller chooses
 * (connection ids, hosts, namespaces, tenants, API keys) is an LRU with a cap: the least recently
 * used entry goes first, so a flood of new keys never grows memory and never wipes the entries
 * that are in use (a wipe would reset live rate buckets and breakers). Backed by lru.min.
 */
import { createLRU } from "lru.min";

export type Lru<K, V> = ReturnType<typeof createLRU<K, V>>;

export function lru<K, V>(max: number, onEviction?: (key: K, value: V) => unknown): Lru<K, V> {
  return createLRU<K, V>({ max, ...(onEviction ? { onEviction } : {}) });
}
