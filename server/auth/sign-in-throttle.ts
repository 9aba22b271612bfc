/**
 * Sign-in throttle, per account (email) and per client address: after too many failures in a
 * window, further attempts are refused before any password is hashed, with the wait in words.
 * Memory is bounded (least recently used entries go first), so random emails or addresses cannot
 * grow it. Per process: each web process counts its own attempts.
 */
export type ThrottleRule = { maxFailures: number; windowMs: number };
export const ACCOUNT_RULE: ThrottleRule = { maxFailures: 5, windowMs: 15 * 60_000 };
export const ADDRESS_RULE: ThrottleRule = { maxFailures: 30, windowMs: 15 * 60_000 };
const MAX_ENTRIES = 20_000;

class FailureLog {
  private readonly entries = new Map<string, number[]>();
  constructor(private readonly rule: ThrottleRule) {}

  private recent(key: string, now: number): number[] {
    const list = (this.entries.get(key) ?? []).filter((t) => now - t < this.rule.windowMs);
    this.entries.delete(key); // re-inserted last: Map order is the LRU order
    if (list.length) this.entries.set(key, list);
    return list;
  }

  /** ms until the next attempt is allowed, 0 when it is allowed now */
  waitMs(key: string, now: number): number {
    const list = this.recent(key, now);
    if (list.length < this.rule.maxFailures) return 0;
    return list[list.length - this.rule.maxFailures]! + this.rule.windowMs - now;
  }

  fail(key: string, now: number): void {
    const list = this.recent(key, now);
    list.push(now);
    if (list.length > this.rule.maxFailures) list.splice(0, list.length - this.rule.maxFailures);
    this.entries.set(key, list);
    while (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

export class SignInThrottle {
  private readonly accounts: FailureLog;
  private readonly addresses: FailureLog;
  constructor(rules: { account?: ThrottleRule; address?: ThrottleRule } = {}, private readonly now: () => number = Date.now) {
    this.accounts = new FailureLog(rules.account ?? ACCOUNT_RULE);
    this.addresses = new FailureLog(rules.address ?? ADDRESS_RULE);
  }

  /** null when the attempt may go ahead, else the sentence to show */
  check(email: string, address: string | null): string | null {
    const t = this.now();
    const wait = Math.max(this.accounts.waitMs(email.trim().toLowerCase(), t), address ? this.addresses.waitMs(address, t) : 0);
    if (wait <= 0) return null;
    const minutes = Math.max(1, Math.ceil(wait / 60_000));
    return `Too many sign-in attempts; try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
  }

  failed(email: string, address: string | null): void {
    const t = this.now();
    this.accounts.fail(email.trim().toLowerCase(), t);
    if (address) this.addresses.fail(address, t);
  }

  /** a successful sign-in forgets the account's failures (not the address's) */
  succeeded(email: string): void {
    this.accounts.clear(email.trim().toLowerCase());
  }

  get entries(): number {
    return this.accounts.size + this.addresses.size;
  }
}

/**
 * The client's address as the server that accepted the connection saw it: `next start` appends
 * the socket's address to X-Forwarded-For, so the last entry is the one a client cannot forge.
 * Behind a reverse proxy that is the proxy's address (the per-address rule is generous for that).
 */
export function clientAddress(headers: Headers): string | null {
  const xff = headers.get("x-forwarded-for");
  const last = xff?.split(",").map((s) => s.trim()).filter(Boolean).pop();
  return last ?? headers.get("x-real-ip") ?? null;
}
