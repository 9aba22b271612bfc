import { lru } from "../../lib/lru";

/**
 * Per-connection token bucket: `ratePerMinute` requests per minute with a burst of up to one
 * second's worth (min 1). take() waits for a token (bounded by maxWaitMs) or fails.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private readonly perMs: number;
  private readonly capacity: number;

  constructor(ratePerMinute: number, burst?: number) {
    this.perMs = ratePerMinute / 60_000;
    this.capacity = Math.max(1, burst ?? Math.ceil(ratePerMinute / 60));
    this.tokens = this.capacity;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
  }

  /** Resolves true when a token was taken, false when none would be available within maxWaitMs. */
  async take(maxWaitMs = 10_000): Promise<boolean> {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    const waitMs = (1 - this.tokens) / this.perMs;
    if (waitMs > maxWaitMs) return false;
    await new Promise((r) => setTimeout(r, waitMs));
    return this.take(maxWaitMs);
  }
}

/** Connections with a live bucket per process; the least recently used bucket goes first past it. */
export const MAX_CONNECTION_BUCKETS = 10_000;
const buckets = lru<string, TokenBucket>(MAX_CONNECTION_BUCKETS);

/** How many buckets are held (tests). */
export function connectionBucketCount(): number {
  return buckets.size;
}

/**
 * A first onboarding needs a short burst (health, discovery, a few sample pages); the cap is on
 * the sustained rate, so a connection may burst up to this many requests, then ratePerMinute.
 */
export const CONNECTION_BURST = 20;

/** The bucket of one connection (process-wide). */
export function bucketFor(connectionId: string, ratePerMinute: number): TokenBucket {
  const key = `${connectionId}:${ratePerMinute}`;
  let b = buckets.get(key);
  if (!b) {
    b = new TokenBucket(ratePerMinute, Math.min(ratePerMinute, CONNECTION_BURST));
    buckets.set(key, b);
  }
  return b;
}
