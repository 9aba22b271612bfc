/**
 * The adapter the fault worker uses: health, discovery and the first sync are HTTP calls to the
 * fault source, mapped to failures the way the real drivers map them (a reset is `network`
 * ECONNRESET, no answer is `timeout`, 429 is `rate_limited`, 5xx is `other` "HTTP 503"). Like the
 * real safe HTTP path it retries 429/5xx/resets of one request a few times before it reports them.
 */
import http from "node:http";
import { err, ok } from "../../server/lib/result";
import type { ConnectorContext, ConnectorFailure, SampleRecord, SourceAdapter } from "../../server/connectors/types";

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** short, so injected hangs cost little; a scenario with none may give more (a loaded CI host stalls for a second or two) */
const DEFAULT_REQUEST_TIMEOUT_MS = 1_500;

type Answer = { ok: true; body: unknown } | { ok: false; failure: ConnectorFailure; retryable: boolean };

function once(url: string, signal: AbortSignal | undefined, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", () => resolve({ ok: false, failure: { kind: "network", message: "fault source: ECONNRESET" }, retryable: true }));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status === 200) return resolve({ ok: true, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
        if (status === 429) return resolve({ ok: false, failure: { kind: "rate_limited", message: "fault source: HTTP 429 rate limited" }, retryable: true });
        resolve({ ok: false, failure: { kind: "other", message: `fault source: HTTP ${status}` }, retryable: status >= 500 });
      });
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (e.name === "AbortError" || e.name === "TimeoutError") return resolve({ ok: false, failure: { kind: "timeout", message: `fault source did not answer within ${timeoutMs / 1000} s` }, retryable: false });
      resolve({ ok: false, failure: { kind: "network", message: `fault source: ${e.code ?? "ECONNRESET"}` }, retryable: true });
    });
  });
}

async function call(base: string, ctx: ConnectorContext, op: string, timeoutMs: number): Promise<Answer> {
  let last: Answer | undefined;
  for (let i = 0; i < 3; i++) {
    if (ctx.signal?.aborted) break;
    last = await once(`${base}/c/${ctx.connectionId}/${op}`, ctx.signal, timeoutMs);
    if (last.ok || !last.retryable) return last;
    await new Promise((r) => setTimeout(r, 50 * 2 ** i));
  }
  return last ?? { ok: false, failure: { kind: "timeout", message: "aborted" }, retryable: false };
}

export function faultAdapter(base: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): SourceAdapter {
  return {
    async healthCheck(ctx) {
      const a = await call(base, ctx, "health", timeoutMs);
      return a.ok ? ok({ latencyMs: 1 }) : err(a.failure);
    },
    async discover(ctx) {
      const a = await call(base, ctx, "discover", timeoutMs);
      return a.ok ? ok(a.body as { streams: { name: string; fields: { name: string; type: string }[] }[] }) : err(a.failure);
    },
    async sample(ctx) {
      const a = await call(base, ctx, "sample", timeoutMs);
      if (!a.ok) return err(a.failure);
      const records = (a.body as { records: Record<string, unknown>[] }).records;
      return ok(records.map((data): SampleRecord => ({ stream: "things", data })));
    },
  };
}
