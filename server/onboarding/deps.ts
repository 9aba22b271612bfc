/**
 * Production wiring of the pipeline's dependencies: the credential resolver, the connector
 * catalog + driver registry, and the Safe Mode policy from settings (cached for a few seconds:
 * it is read on every attempt).
 */
import { bindConnector } from "../connectors/binding";
import { makePolicy } from "../connectors/safe-mode/policy";
import { resolveSandboxRefs } from "../connectors/sandbox/refs";
import type { SafetyPolicy } from "../connectors/types";
import { createCredentialResolver } from "../credentials/resolver";
import type { Db } from "../db/client";
import { getEnv } from "../env";
import { logger } from "../lib/logger";
import { lru } from "../lib/lru";
import type { PipelineDeps } from "./pipeline";
import { createDestinationLoader } from "./destination-grant";
import { getSettings } from "./settings-repository";

/** (tenant, namespace) pairs whose policy is cached per process; LRU past it. */
export const MAX_CACHED_POLICIES = 5_000;

export function createPolicyLoader(db: Db, ttlMs = 5_000, max = MAX_CACHED_POLICIES) {
  const cache = lru<string, { at: number; policy: SafetyPolicy }>(max);
  return async (tenantId: string, namespace: string): Promise<SafetyPolicy> => {
    const key = `${tenantId}/${namespace}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.policy;
    const s = await getSettings(db, tenantId, namespace);
    const policy = makePolicy({
      ...(s ? { ratePerMinute: s.rateLimitPerMinute, maxRecords: s.maxSampleRecords, requestTimeoutMs: s.requestTimeoutMs } : {}),
    });
    cache.set(key, { at: Date.now(), policy });
    return policy;
  };
}

export function createPipelineDeps(db: Db, overrides: Partial<PipelineDeps> = {}): PipelineDeps {
  const env = getEnv();
  return {
    db,
    credentials: createCredentialResolver({ db }),
    connectors: bindConnector,
    policy: createPolicyLoader(db),
    destinations: createDestinationLoader(db, { sandboxEndpoints: env.SANDBOX_ENDPOINTS, dataDir: env.dataDir }),
    log: logger(),
    resolveConfig: env.SANDBOX_ENDPOINTS ? (config) => resolveSandboxRefs(config, env.SANDBOX_ENDPOINTS!) : undefined,
    ...overrides,
  };
}
