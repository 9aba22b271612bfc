/**
 * A source adapter whose answers a test chooses, to drive the pipeline through every status
 * mapping. Real drivers are exercised against real servers in the connector tests; this one
 * exists so the pipeline's own decisions can be tested one by one.
 */
import { err, ok } from "../../server/lib/result";
import type { ConnectorFailure, FailureKind, SampleRecord, SourceAdapter } from "../../server/connectors/types";
import type { Db } from "../../server/db/client";

export type Script = {
  health?: FailureKind | "throw";
  discover?: FailureKind;
  sample?: FailureKind;
  records?: number;
  delayMs?: number;
  throwMessage?: string;
};

export function scriptedAdapter(script: Script = {}, calls: { health: number; discover: number; sample: number } = { health: 0, discover: 0, sample: 0 }): SourceAdapter {
  const fail = (kind: FailureKind, what: string): { ok: false; error: ConnectorFailure } => err({ kind, message: `${what} failed (${kind})` });
  const pause = () => (script.delayMs ? new Promise((r) => setTimeout(r, script.delayMs)) : Promise.resolve());
  return {
    async healthCheck() {
      calls.health++;
      await pause();
      if (script.health === "throw") throw new Error(script.throwMessage ?? "boom");
      return script.health ? fail(script.health, "health check") : ok({ latencyMs: 1 });
    },
    async discover() {
      calls.discover++;
      return script.discover ? fail(script.discover, "discovery") : ok({ streams: [{ name: "things", fields: [{ name: "id", type: "integer" }, { name: "name", type: "string" }, { name: "api_token", type: "string" }] }] });
    },
    async sample() {
      calls.sample++;
      if (script.sample) return fail(script.sample, "sample");
      const records: SampleRecord[] = Array.from({ length: script.records ?? 7 }, (_, i) => ({ stream: "things", data: { id: i, name: `thing ${i}`, api_token: "tok-should-not-show" } }));
      return ok(records);
    },
  };
}

/** A worker on `databaseUrl` (one slot) whose attempts run against a scripted source that reads one record. */
export async function startScriptedWorker(db: Db, databaseUrl: string) {
  const { startWorker } = await import("../../server/jobs/worker");
  const { makePolicy } = await import("../../server/connectors/safe-mode/policy");
  const { createCredentialResolver, parseEncryptionKey } = await import("../../server/credentials/resolver");
  return startWorker({
    databaseUrl,
    concurrency: 1,
    stuckAfterMs: 600_000,
    db,
    deps: { db, credentials: createCredentialResolver({ db, encryptionKey: parseEncryptionKey("c".repeat(64)) }), connectors: () => ({ adapter: scriptedAdapter({ records: 1 }) }), policy: async () => makePolicy() },
  });
}
