/**
 * Lets a request wait (within a time budget) for an onboarding job to finish: one LISTEN
 * connection per process on the channel the pipeline NOTIFYs when it commits a final state.
 */
import pg from "pg";
import { FINAL_CHANNEL } from "../onboarding/connection-repository";

type Waiter = () => void;

export class FinalWaiter {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(private readonly databaseUrl: string) {}

  private async ensure(): Promise<void> {
    if (this.client) return;
    this.connecting ??= (async () => {
      const c = new pg.Client({ connectionString: this.databaseUrl });
      c.on("notification", (m) => {
        const set = m.payload ? this.waiters.get(m.payload) : undefined;
        if (set) for (const w of set) w();
      });
      c.on("error", () => {
        // reconnect on next use; waiters fall back to their timeout
        this.client = undefined;
        this.connecting = undefined;
      });
      await c.connect();
      await c.query(`LISTEN ${FINAL_CHANNEL}`);
      this.client = c;
    })();
    try {
      await this.connecting;
    } finally {
      this.connecting = undefined;
    }
  }

  /**
   * Registers interest first, then runs `afterListen` (which enqueues the job and/or checks the
   * current state), so a notification can never slip between the two. Resolves true when notified.
   */
  async wait(connectionId: string, ms: number, afterListen: () => Promise<boolean>): Promise<boolean> {
    await this.ensure();
    let resolveFn: (v: boolean) => void = () => undefined;
    const done = new Promise<boolean>((r) => (resolveFn = r));
    const waiter = () => resolveFn(true);
    let set = this.waiters.get(connectionId);
    if (!set) this.waiters.set(connectionId, (set = new Set()));
    set.add(waiter);
    const timer = setTimeout(() => resolveFn(false), ms);
    try {
      if (await afterListen()) return true;
      return await done;
    } finally {
      clearTimeout(timer);
      set.delete(waiter);
      if (set.size === 0) this.waiters.delete(connectionId);
    }
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
