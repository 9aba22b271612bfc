/** `sandbox:<name>[/path]` references in intent config (kept apart from the sandbox servers so the web bundle never loads them). */
/** Replaces `sandbox:<name>[/path]` strings in intent config with the running sandbox's endpoint. */
export function resolveSandboxRefs(config: Record<string, unknown>, endpoints: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    const m = typeof v === "string" ? /^sandbox:([a-z0-9_]+)(\/.*)?$/.exec(v) : null;
    out[k] = m && endpoints[m[1]!] ? `${endpoints[m[1]!]}${m[2] ?? ""}` : v;
  }
  return out;
}

/** True when a connection's config points at a sandbox stand-in rather than a real source. */
export function usesSandbox(config: Record<string, unknown>): boolean {
  return Object.values(config).some((v) => typeof v === "string" && /^sandbox:[a-z0-9_]+/.test(v));
}
