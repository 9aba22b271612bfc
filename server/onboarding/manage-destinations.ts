/**
 * Use-cases behind the Settings page (issue 8, item 3): a tenant admin lists, adds, edits and
 * removes approved destinations (host patterns / CIDR ranges with ports, and root folders) and
 * turns preview masking on or off. Every change is written to the audit log with who did it;
 * after a change the connections blocked on a destination the rule now covers are resumed.
 *
 * Approved rules are cached per process for a moment (destination-grant.ts, 2 s) and workers may
 * run in other processes, so resuming waits that long before the jobs are queued: an attempt
 * that starts later always sees the new rule.
 */
import fs from "node:fs";
import path from "node:path";
import ipaddr from "ipaddr.js";
import { ALLOWLIST, isAllowlisted } from "../connectors/allowlist";
import { checkDestination, checkFolder, isInside, matchRules, validateHostPattern, type DestinationGrant } from "../connectors/safe-mode/destinations";
import { listAudit, recordAudit, type AuditActor, type AuditEntry } from "../audit/audit-repository";
import type { Db } from "../db/client";
import { err, ok, type Result } from "../lib/result";
import { BLOCKED_PAGE, listBlockedOnDestination } from "./connection-query";
import { markBlockedForRetry } from "./connection-repository";
import {
  addApprovedDestination,
  listApprovedDestinations,
  removeApprovedDestination,
  updateApprovedDestination,
  type ApprovedDestinationRow,
  type NewDestination,
} from "./destination-repository";
import { listBindings, type SecretBindingRow } from "./secret-binding-repository";
import { previewMaskingFor, secretBindingApprovalFor, setPreviewMasking } from "./settings-repository";

export type DestinationAdminDeps = {
  db: Db;
  enqueue: (ids: readonly string[]) => Promise<void>;
  /** the app's data folder (DATA_DIR): never approvable */
  dataDir: string;
  /** drops this process's cached rules of a tenant, when the caller can reach the loader */
  invalidate?: (tenantId: string) => void;
  /** how long other caches may still hold the old rules (the loader's TTL plus a margin) */
  settleMs?: number;
};

export const DESTINATION_CACHE_SETTLE_MS = 2_100;

export type FieldIssue = { field: "kind" | "pattern" | "ports" | "sourceTypes" | "note"; message: string };
export type DestinationError =
  | { code: "INVALID"; message: string; issues: FieldIssue[] }
  | { code: "NOT_FOUND"; message: string }
  | { code: "NOT_BLOCKED"; message: string }
  | { code: "READ_ONLY"; message: string };

/** What the admin typed: ports as text ("5432, 6432"; empty = any port). */
export type DestinationInput = { kind: "host" | "folder"; pattern: string; ports: string; sourceTypes: string[]; note: string };

export type ChangeOutcome = { destination: ApprovedDestinationRow; resumed: number };

const FIELD_LABEL: Record<FieldIssue["field"], string> = { kind: "Kind", pattern: "Destination", ports: "Ports", sourceTypes: "Source types", note: "Note" };

function invalid(issues: FieldIssue[]): DestinationError {
  return { code: "INVALID", message: issues.map((i) => `${FIELD_LABEL[i.field]}: ${i.message}`).join(" "), issues };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parsePorts(text: string): { ports: number[]; issue?: string } {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const ports: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) return { ports, issue: `“${p.slice(0, 20)}” is not a port: use whole numbers from 1 to 65535, separated by commas.` };
    ports.push(Number(p));
  }
  if (ports.length > 32) return { ports, issue: "list at most 32 ports (or leave empty for any port)." };
  return { ports: [...new Set(ports)].sort((a, b) => a - b) };
}

function realOrSame(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** Checks and normalises what the admin typed; issues are sentences an admin can act on. */
export function validateDestination(input: DestinationInput, dataDir: string): Result<NewDestination, DestinationError> {
  const issues: FieldIssue[] = [];
  const raw = input.pattern.trim();
  let pattern = raw;
  if (input.kind === "host") {
    pattern = raw.toLowerCase().replace(/^\[|\]$/g, "");
    const reason = /^[a-z][a-z0-9+.-]*:\/\//.test(pattern)
      ? "is a URL: enter only the host name (db.corp.example), and the port under Ports"
      : /^[^:\s]+:\d+$/.test(pattern)
        ? "includes a port: enter the host alone, and the port under Ports"
        : validateHostPattern(pattern);
    if (reason) issues.push({ field: "pattern", message: `“${raw.slice(0, 80)}” ${reason}.` });
    else {
      const addr = pattern.includes("/") ? ipaddr.parseCIDR(pattern)[0] : ipaddr.isValid(pattern) ? ipaddr.parse(pattern) : undefined;
      if (addr && addr.range() === "linkLocal") issues.push({ field: "pattern", message: "link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10) are never reachable, whatever is approved." });
    }
  } else {
    if (!path.isAbsolute(raw)) issues.push({ field: "pattern", message: "a folder must be an absolute path, such as /srv/exports." });
    else {
      pattern = path.resolve(raw);
      const data = path.resolve(dataDir);
      const candidates = [pattern, realOrSame(pattern)];
      const dataReal = realOrSame(data);
      if (candidates.some((c) => isInside(data, c) || isInside(dataReal, c))) {
        issues.push({ field: "pattern", message: "this is inside the app's own data folder (DATA_DIR), which holds its database and secrets; it can never be approved." });
      } else if (candidates.some((c) => isInside(c, data) || isInside(c, dataReal))) {
        issues.push({ field: "pattern", message: "this folder contains the app's own data folder (DATA_DIR), which holds its database and secrets; approve a folder beside it instead." });
      }
    }
  }
  const { ports, issue } = input.kind === "host" ? parsePorts(input.ports) : { ports: [] as number[] };
  if (issue) issues.push({ field: "ports", message: issue });
  const unknown = input.sourceTypes.filter((s) => !isAllowlisted(s));
  if (unknown.length) issues.push({ field: "sourceTypes", message: `${unknown.map((u) => `“${u.slice(0, 40)}”`).join(", ")} ${unknown.length === 1 ? "is not a" : "are not"} supported source type${unknown.length === 1 ? "" : "s"}.` });
  const note = input.note.trim();
  if (note.length > 200) issues.push({ field: "note", message: "keep the note under 200 characters." });
  if (issues.length) return err(invalid(issues));
  return ok({ kind: input.kind, pattern, ports, sourceTypes: [...new Set(input.sourceTypes)].sort(), note });
}

function grantOf(d: NewDestination | ApprovedDestinationRow, dataDir: string): DestinationGrant {
  return d.kind === "host"
    ? { catalogHosts: [], hosts: [{ pattern: d.pattern, ports: d.ports, sourceTypes: d.sourceTypes, origin: "approved" }], folders: [], forbiddenFolders: [dataDir] }
    : { catalogHosts: [], hosts: [], folders: [{ path: d.pattern, sourceTypes: d.sourceTypes, origin: "approved" }], forbiddenFolders: [dataDir] };
}

const approves = (r: { ok: true } | { ok: false; error: { kind: string } }) => r.ok || r.error.kind !== "not_approved";

/** Name lookups a rule over address ranges makes at once while it finds the connections it covers. */
const COVER_LOOKUPS = 16;

/**
 * Blocked connections of the tenant that `rule` now lets through (the same check the drivers
 * make). A name or wildcard rule decides by name; only a rule over address ranges resolves the
 * blocked hosts — each distinct host:port once, COVER_LOOKUPS at a time, however many
 * connections are blocked on it.
 */
export async function connectionsCoveredBy(deps: Pick<DestinationAdminDeps, "db" | "dataDir">, tenantId: string, rule: NewDestination | ApprovedDestinationRow): Promise<string[]> {
  const destinations = grantOf(rule, deps.dataDir);
  const out: string[] = [];
  const byAddress = new Map<string, { sourceType: string; host: string; port: number; ids: string[] }>();
  // every blocked connection, a page at a time (a rule for a new subnet may cover thousands)
  let afterId: string | undefined;
  for (;;) {
    const page = await listBlockedOnDestination(deps.db, tenantId, afterId);
    for (const b of page.blocked) {
      const ctx = { sourceType: b.sourceType, destinations };
      if (b.destination.kind === "host" && rule.kind === "host") {
        const { host, port } = b.destination;
        const m = matchRules(ctx, host, port);
        // approved by name; whether the address then passes the egress guard is the attempt's to say
        if (m.by === "name") out.push(b.id);
        else if (m.by === "address") {
          const key = JSON.stringify([b.sourceType, host, port]);
          const at = byAddress.get(key) ?? { sourceType: b.sourceType, host, port, ids: [] };
          at.ids.push(b.id);
          byAddress.set(key, at);
        }
      } else if (b.destination.kind === "folder" && rule.kind === "folder") {
        if (approves(checkFolder(ctx, b.destination.path))) out.push(b.id);
      }
    }
    if (page.read < BLOCKED_PAGE) break;
    afterId = page.lastId;
  }
  const pending = [...byAddress.values()];
  const lookup = async () => {
    for (let h = pending.pop(); h; h = pending.pop()) {
      if (approves(await checkDestination({ sourceType: h.sourceType, destinations }, h.host, h.port))) out.push(...h.ids);
    }
  };
  await Promise.all(Array.from({ length: Math.min(COVER_LOOKUPS, pending.length) }, lookup));
  return out;
}

/** Moves the given blocked connections back to PENDING and queues them once no cache holds the old rules. */
export async function resumeBlocked(deps: DestinationAdminDeps, tenantId: string, ids: readonly string[], message: string): Promise<number> {
  deps.invalidate?.(tenantId);
  if (ids.length === 0) return 0;
  const moved = await markBlockedForRetry(deps.db, tenantId, message, ids);
  if (moved.length === 0) return 0;
  await sleep(deps.settleMs ?? DESTINATION_CACHE_SETTLE_MS);
  await deps.enqueue(moved);
  return moved.length;
}

const describe = (d: { kind: string; pattern: string; ports: readonly number[]; sourceTypes: readonly string[] }) =>
  `${d.pattern}${d.kind === "host" ? (d.ports.length ? ` port ${d.ports.join(", ")}` : " any port") : ""}${d.sourceTypes.length ? ` for ${d.sourceTypes.join(", ")}` : " for any source type"}`;

const auditDetails = (d: { kind: string; pattern: string; ports: readonly number[]; sourceTypes: readonly string[]; note?: string }) => ({
  kind: d.kind,
  pattern: d.pattern,
  ports: [...d.ports],
  sourceTypes: [...d.sourceTypes],
  ...(d.note ? { note: d.note } : {}),
});

export type SettingsPage = {
  destinations: ApprovedDestinationRow[];
  previewMasking: boolean;
  recentChanges: AuditEntry[];
  sourceTypes: readonly string[];
  /** where each of the tenant's own secrets may go (secret-binding.ts), the first BINDINGS_LISTED and how many */
  secretBindings: { rows: SecretBindingRow[]; total: number; approval: boolean };
};

/** The audit entries the Settings page shows as its recent changes. */
const SETTINGS_ACTIONS = ["destination.", "settings.", "secret_binding."] as const;

export async function viewSettingsPage(db: Db, tenantId: string): Promise<SettingsPage> {
  const [destinations, previewMasking, audit, secretBindings] = await Promise.all([
    listApprovedDestinations(db, tenantId),
    previewMaskingFor(db, tenantId),
    listAudit(db, tenantId, { actionPrefixes: SETTINGS_ACTIONS, limit: 20 }),
    listBindings(db, tenantId),
  ]);
  return { destinations, previewMasking, recentChanges: audit, sourceTypes: ALLOWLIST, secretBindings: { ...secretBindings, approval: await secretBindingApprovalFor(db, tenantId) } };
}

export async function addDestination(deps: DestinationAdminDeps, tenantId: string, actor: AuditActor, input: DestinationInput): Promise<Result<ChangeOutcome, DestinationError>> {
  const v = validateDestination(input, deps.dataDir);
  if (!v.ok) return v;
  const row = await addApprovedDestination(deps.db, tenantId, v.value, { id: actor.id ?? undefined, label: actor.label });
  await recordAudit(deps.db, tenantId, actor, "destination.added", describe(row), auditDetails(row));
  const resumed = await resumeBlocked(deps, tenantId, await connectionsCoveredBy(deps, tenantId, row), `Destination approved by ${actor.label}: ${describe(row)}`);
  return ok({ destination: row, resumed });
}

export async function updateDestination(deps: DestinationAdminDeps, tenantId: string, actor: AuditActor, id: string, input: DestinationInput): Promise<Result<ChangeOutcome, DestinationError>> {
  const before = (await listApprovedDestinations(deps.db, tenantId)).find((d) => d.id === id);
  if (!before) return err({ code: "NOT_FOUND", message: "This destination is no longer on the list (someone may have removed it)." });
  const v = validateDestination({ ...input, kind: before.kind }, deps.dataDir);
  if (!v.ok) return v;
  const clash = (await listApprovedDestinations(deps.db, tenantId)).find((d) => d.id !== id && d.kind === before.kind && d.pattern === v.value.pattern);
  if (clash) return err(invalid([{ field: "pattern", message: `“${v.value.pattern}” is already on the list: edit that entry instead.` }]));
  const row = await updateApprovedDestination(deps.db, tenantId, id, v.value);
  if (!row) return err({ code: "NOT_FOUND", message: "This destination is no longer on the list (someone may have removed it)." });
  await recordAudit(deps.db, tenantId, actor, "destination.updated", describe(row), { before: auditDetails(before), after: auditDetails(row) });
  const resumed = await resumeBlocked(deps, tenantId, await connectionsCoveredBy(deps, tenantId, row), `Destination approved by ${actor.label}: ${describe(row)}`);
  return ok({ destination: row, resumed });
}

export async function removeDestination(deps: DestinationAdminDeps, tenantId: string, actor: AuditActor, id: string): Promise<Result<{ destination: ApprovedDestinationRow }, DestinationError>> {
  const row = await removeApprovedDestination(deps.db, tenantId, id);
  if (!row) return err({ code: "NOT_FOUND", message: "This destination is no longer on the list (someone may have removed it)." });
  await recordAudit(deps.db, tenantId, actor, "destination.removed", describe(row), auditDetails(row));
  deps.invalidate?.(tenantId);
  return ok({ destination: row });
}

export async function changePreviewMasking(db: Db, tenantId: string, actor: AuditActor, on: boolean): Promise<{ previewMasking: boolean }> {
  const before = await previewMaskingFor(db, tenantId);
  const previewMasking = await setPreviewMasking(db, tenantId, on);
  if (before !== previewMasking) {
    await recordAudit(db, tenantId, actor, "settings.preview_masking", previewMasking ? "masking on" : "masking off", { previewMasking });
  }
  return { previewMasking };
}
