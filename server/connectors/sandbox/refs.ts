/**
 * `sandbox:<name>[/path]` references in intent config (kept apart from the sandbox servers so the
 * web bundle never loads them). A reference works only while the sandboxes run: the pipeline then
 * expands it to the sandbox's endpoint (which the destination grant approves). When they do not
 * run, the reference stays as written and the drivers refuse it in words (`sandboxNotRunning`),
 * before anything is sent anywhere.
 */
import type { ConnectorFailure } from "../types";

const SANDBOX_REF = /^sandbox:([a-z0-9_]+)(\/.*)?$/;

/** Replaces `sandbox:<name>[/path]` strings in intent config with the running sandbox's endpoint. */
export function resolveSandboxRefs(config: Record<string, unknown>, endpoints: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    const m = typeof v === "string" ? SANDBOX_REF.exec(v) : null;
    out[k] = m && Object.hasOwn(endpoints, m[1]!) ? `${endpoints[m[1]!]}${m[2] ?? ""}` : v;
  }
  return out;
}

/** True when a connection's config points at a sandbox stand-in rather than a real source. */
export function usesSandbox(config: Record<string, unknown>): boolean {
  return Object.values(config).some((v) => typeof v === "string" && /^sandbox:[a-z0-9_]+/.test(v));
}

/**
 * For a config value that is still an unexpanded `sandbox:` reference (the sandboxes are not
 * running, or no sandbox has that name): the refusal, NETWORK_BLOCKED with the reason in words.
 */
export function sandboxNotRunning(field: string, value: unknown): ConnectorFailure | undefined {
  const m = typeof value === "string" ? SANDBOX_REF.exec(value) : null;
  if (!m) return undefined;
  return {
    kind: "egress_refused",
    message: `Destination not approved: config.${field} refers to the sandbox "${m[1]}", and no such sandbox is running on this server (sandbox references work only while SANDBOX is on)`,
  };
}
