/**
 * A source that misbehaves on purpose (the fault suite, issue 11 item 13): an HTTP server that
 * answers `/c/<connection>/<op>` (op: health | discover | sample) after `delayMs`, and with the
 * chosen probabilities resets the connection, never answers (a timeout), or answers 429 / 503.
 * It counts what it injected and — the figure that matters — how often two requests for the same
 * connection were in flight at once (two tries running concurrently: a duplicated attempt).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type FaultMode = { delayMs: number; reset: number; hang: number; r429: number; r5xx: number };
export type FaultStats = { requests: number; reset: number; hang: number; r429: number; r5xx: number; overlaps: number; samplesServed: number };

export type FaultSource = {
  url: string;
  setMode(m: Partial<FaultMode>): void;
  stats(): FaultStats;
  /** sample answers (200) per connection id */
  samples(): Map<string, number>;
  close(): Promise<void>;
};

export async function startFaultSource(initial: Partial<FaultMode> = {}): Promise<FaultSource> {
  let mode: FaultMode = { delayMs: 0, reset: 0, hang: 0, r429: 0, r5xx: 0, ...initial };
  const stats: FaultStats = { requests: 0, reset: 0, hang: 0, r429: 0, r5xx: 0, overlaps: 0, samplesServed: 0 };
  const inFlight = new Map<string, number>();
  const samples = new Map<string, number>();
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const m = /^\/c\/([0-9a-f-]{36})\/(health|discover|sample)$/.exec(req.url ?? "");
    if (!m) return void res.writeHead(404).end();
    const [, id, op] = m as unknown as [string, string, string];
    stats.requests++;
    const now = (inFlight.get(id) ?? 0) + 1;
    inFlight.set(id, now);
    if (now > 1) stats.overlaps++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const left = (inFlight.get(id) ?? 1) - 1;
      if (left <= 0) inFlight.delete(id);
      else inFlight.set(id, left);
    };
    res.on("close", finish);
    const r = Math.random();
    const { reset, hang, r429, r5xx } = mode;
    if (r < reset) {
      stats.reset++;
      finish();
      return void req.socket.destroy();
    }
    if (r < reset + hang) {
      stats.hang++;
      return; // never answers; the client's timeout closes it
    }
    setTimeout(() => {
      if (res.destroyed) return;
      if (r < reset + hang + r429) {
        stats.r429++;
        return void res.writeHead(429, { "retry-after": "0", "content-type": "application/json" }).end('{"message":"rate limited"}');
      }
      if (r < reset + hang + r429 + r5xx) {
        stats.r5xx++;
        return void res.writeHead(503, { "content-type": "application/json" }).end('{"message":"unavailable"}');
      }
      const body =
        op === "health" ? { ok: true } : op === "discover" ? { streams: [{ name: "things", fields: [{ name: "id", type: "integer" }, { name: "name", type: "string" }] }] } : { records: [{ id: 1, name: "one" }, { id: 2, name: "two" }] };
      if (op === "sample") {
        stats.samplesServed++;
        samples.set(id, (samples.get(id) ?? 0) + 1);
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    }, mode.delayMs * (0.5 + Math.random())); // jittered, so tries do not move in lockstep waves
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    setMode: (m) => void (mode = { ...mode, ...m }),
    stats: () => ({ ...stats }),
    samples: () => new Map(samples),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
