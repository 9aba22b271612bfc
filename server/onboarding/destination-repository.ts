/** A tenant's approved destinations (host patterns / CIDR ranges with ports, and root folders). */
import type { Db } from "../db/client";

export type ApprovedDestinationRow = {
  id: string;
  kind: "host" | "folder";
  pattern: string;
  ports: number[];
  sourceTypes: string[];
  note: string;
  createdBy: string;
  createdAt: Date;
};

const SELECT = { id: true, kind: true, pattern: true, ports: true, sourceTypes: true, note: true, createdBy: true, createdAt: true } as const;

const asRow = (r: { kind: string } & Omit<ApprovedDestinationRow, "kind">): ApprovedDestinationRow => ({ ...r, kind: r.kind === "folder" ? "folder" : "host" });

export async function listApprovedDestinations(db: Db, tenantId: string): Promise<ApprovedDestinationRow[]> {
  const rows = await db.approvedDestination.findMany({ where: { tenantId }, select: SELECT, orderBy: [{ kind: "asc" }, { pattern: "asc" }] });
  return rows.map(asRow);
}

export type NewDestination = { kind: "host" | "folder"; pattern: string; ports: number[]; sourceTypes: string[]; note: string };

/**
 * Adds a destination, or widens the existing one with the same kind and pattern (ports and source
 * types are merged; an empty list on either side means "any" and stays "any").
 */
export async function addApprovedDestination(db: Db, tenantId: string, d: NewDestination, actor: { id?: string; label: string }): Promise<ApprovedDestinationRow> {
  return db.$transaction(async (tx) => {
    const existing = await tx.approvedDestination.findUnique({ where: { tenantId_kind_pattern: { tenantId, kind: d.kind, pattern: d.pattern } }, select: SELECT });
    if (existing) {
      const merge = (a: readonly (string | number)[], b: readonly (string | number)[]) => (a.length === 0 || b.length === 0 ? [] : [...new Set([...a, ...b])].sort());
      const row = await tx.approvedDestination.update({
        where: { id: existing.id },
        data: { ports: merge(existing.ports, d.ports) as number[], sourceTypes: merge(existing.sourceTypes, d.sourceTypes) as string[], ...(d.note ? { note: d.note } : {}) },
        select: SELECT,
      });
      return asRow(row);
    }
    const row = await tx.approvedDestination.create({
      data: { tenantId, kind: d.kind, pattern: d.pattern, ports: [...new Set(d.ports)].sort((a, b) => a - b), sourceTypes: [...new Set(d.sourceTypes)].sort(), note: d.note, createdById: actor.id ?? null, createdBy: actor.label },
      select: SELECT,
    });
    return asRow(row);
  });
}

export async function updateApprovedDestination(db: Db, tenantId: string, id: string, d: Omit<NewDestination, "kind">): Promise<ApprovedDestinationRow | null> {
  const r = await db.approvedDestination.updateMany({ where: { id, tenantId }, data: { pattern: d.pattern, ports: [...new Set(d.ports)].sort((a, b) => a - b), sourceTypes: [...new Set(d.sourceTypes)].sort(), note: d.note } });
  if (r.count === 0) return null;
  const row = await db.approvedDestination.findFirst({ where: { id, tenantId }, select: SELECT });
  return row ? asRow(row) : null;
}

export async function removeApprovedDestination(db: Db, tenantId: string, id: string): Promise<ApprovedDestinationRow | null> {
  const row = await db.approvedDestination.findFirst({ where: { id, tenantId }, select: SELECT });
  if (!row) return null;
  await db.approvedDestination.deleteMany({ where: { id, tenantId } });
  return asRow(row);
}
