/**
 * Heal (DESIGN.md): re-run health, discovery and the tiny sync for HEALING and ERROR connections —
 * one, or all of one namespace — as a new onboarding run, and promote those that pass to ACTIVE.
 * A connection whose attempt is running elsewhere is left to it (its lease, lease.ts). Never touches another namespace;
 * read-only namespaces (demo) are refused.
 */
import { markForHeal } from "./connection-repository";
import { runAttempt, type PipelineDeps } from "./pipeline";
import type { Status } from "./schemas";
import { READ_ONLY_NAMESPACES } from "./submit-intent";

export type HealOutcome = { id: string; status: Status; reason: string | null };
export type HealReport = { namespace: string; total: number; healed: number; outcomes: HealOutcome[] };

export class HealRefused extends Error {}

export async function healConnections(
  deps: PipelineDeps,
  tenantId: string,
  namespace: string,
  opts: { connectionId?: string; concurrency?: number; onProgress?: (done: number, total: number, last: HealOutcome) => void } = {},
): Promise<HealReport> {
  if (READ_ONLY_NAMESPACES.has(namespace)) throw new HealRefused(`The "${namespace}" namespace is read-only; heal works on autonomy namespaces.`);
  const ids = await markForHeal(deps.db, tenantId, namespace, opts.connectionId);
  const outcomes: HealOutcome[] = [];
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id; id = queue.shift()) {
      const row = await runAttempt(deps, id);
      const outcome: HealOutcome = { id, status: row?.status ?? "PENDING", reason: row?.statusReason ?? null };
      outcomes.push(outcome);
      opts.onProgress?.(outcomes.length, ids.length, outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 5, ids.length) }, worker));
  return { namespace, total: ids.length, healed: outcomes.filter((o) => o.status === "ACTIVE").length, outcomes };
}

/**
 * Heal all of a namespace in the background: HEALING → PENDING and onto the durable queue, so a
 * large namespace neither holds a request open nor is lost if the process stops.
 */
export async function queueHeal(db: PipelineDeps["db"], enqueue: (ids: readonly string[]) => Promise<void>, tenantId: string, namespace: string): Promise<{ namespace: string; queued: number }> {
  if (READ_ONLY_NAMESPACES.has(namespace)) throw new HealRefused(`The "${namespace}" namespace is read-only; heal works on autonomy namespaces.`);
  const ids = await markForHeal(db, tenantId, namespace);
  if (ids.length) await enqueue(ids);
  return { namespace, queued: ids.length };
}
