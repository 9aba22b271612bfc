/**
 * ACTIVE means real (issue 10 item 7, DESIGN.md "Statuses and the funnel"): every named resource
 * (a table, bucket, file, org…) must have been found by discovery. One that is missing ends the
 * attempt HEALING (it may appear later; heal re-checks); one the credential cannot see ends it
 * AWAITING_CREDENTIALS. The reason names each resource in words.
 */
import type { DiscoveredSchema, NamedResourceCheck } from "../connectors/types";

export type UnmetResources = { status: "HEALING" | "AWAITING_CREDENTIALS"; reason: string; missing: NamedResourceCheck[] };

/** Undefined when every named resource was found, or the driver does not check named resources. */
export function unmetNamedResources(resourceIds: readonly string[], schema: DiscoveredSchema): UnmetResources | undefined {
  if (!schema.resources) return undefined;
  const reported = new Map(schema.resources.map((r) => [r.id, r]));
  const missing = [
    ...schema.resources.filter((r) => !r.found),
    ...resourceIds.filter((id) => !reported.has(id)).map((id): NamedResourceCheck => ({ id, kind: "resource", found: false, reason: "absent", detail: "discovery did not report it" })),
  ];
  if (missing.length === 0) return undefined;
  const hidden = missing.some((m) => m.reason === "not_visible");
  const words = missing.map((m) => `${m.kind} "${m.id}" (${m.detail ?? (m.reason === "not_visible" ? "not visible to the credential" : "not found")})`).join("; ");
  return {
    status: hidden ? "AWAITING_CREDENTIALS" : "HEALING",
    reason: `Named resource${missing.length > 1 ? "s" : ""} not found by discovery: ${words}. ${hidden ? "Grant the credential access to it, then retry." : "It may appear later; heal re-checks."}`.slice(0, 1000),
    missing,
  };
}
