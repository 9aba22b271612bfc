/** Safe Mode defaults and the hard ceilings no setting can lift. */
import type { SafetyPolicy } from "../types";

export const MAX_SAMPLE_RECORDS = 20;

export const DEFAULT_POLICY: SafetyPolicy = {
  maxRecords: MAX_SAMPLE_RECORDS,
  requestTimeoutMs: 10_000,
  ratePerMinute: 60,
  maxResponseBytes: 2 * 1024 * 1024,
};

export function makePolicy(overrides: Partial<SafetyPolicy> = {}): SafetyPolicy {
  const p = { ...DEFAULT_POLICY, ...overrides };
  return { ...p, maxRecords: Math.max(0, Math.min(p.maxRecords, MAX_SAMPLE_RECORDS)) };
}
