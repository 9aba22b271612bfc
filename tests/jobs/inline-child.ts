/**
 * A web process for tests/jobs/inline-attempt.test.ts: this process's worker (startWorker) and
 * the single-intent use-case (submitIntent, as POST /api/connections/onboard calls it) with the
 * in-process fast path; the source never answers, so the attempt is in flight when the test
 * SIGKILLs this process. argv: database URL, tenant id. Prints `running <connection id>` when
 * the source is first called.
 */
import { makePolicy } from "../../server/connectors/safe-mode/policy";
import type { SourceAdapter } from "../../server/connectors/types";
import { createDb } from "../../server/db/client";
import { startWorker } from "../../server/jobs/worker";
import { ok } from "../../server/lib/result";
import { submitIntent } from "../../server/onboarding/submit-intent";
import { ConnectionIntentSchema } from "../../server/onboarding/schemas";

const [url, tenantId] = process.argv.slice(2) as [string, string];
const db = createDb(url, 4);
const silent: SourceAdapter = {
  async healthCheck(ctx) {
    console.log(`running ${ctx.connectionId}`);
    return new Promise(() => undefined); // never answers
  },
  discover: async () => ok({ streams: [] }),
  sample: async () => ok([]),
};
const worker = await startWorker({
  databaseUrl: url,
  concurrency: 2,
  stuckAfterMs: 600_000,
  db,
  deps: { db, credentials: { resolve: async () => ok({ token: "inline-token" }) }, connectors: () => ({ adapter: silent }), policy: async () => makePolicy() },
});
await worker.ready;
const intent = ConnectionIntentSchema.parse({
  source_type: "github",
  resource_ids: ["inline-kill"],
  scopes_mode: "safe_readonly",
  credential_locator: "env:FAULT_TOKEN",
  namespace: "autonomy",
  risk_level: "low",
  evidence: { status: "Sanctioned", source: "IdP", ts: "2026-11-20T09:00:00Z" },
  owner: { user: "inline@example.com", confidence: 0.9, why: "test" },
  config: {},
});
await submitIntent(
  { db, enqueue: (ids) => worker.queue.enqueueOnboarding(ids), waitForFinal: async () => false, inline: () => (worker.inline.available() ? worker.inline : undefined) },
  tenantId,
  intent,
  { budgetMs: 60_000, async: false },
);
