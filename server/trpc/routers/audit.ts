/** The Audit page (admins only): the tenant's log, filtered by person, action and time. Read-only: there is no procedure that changes it. */
import { z } from "zod";
import { viewAuditLog } from "../../people/view-audit-log";
import { requireCapability, router } from "../init";

const ZEntry = z.object({ id: z.string(), actorLabel: z.string(), action: z.string(), label: z.string(), target: z.string(), details: z.record(z.string(), z.unknown()), at: z.date() });

export const auditRouter = router({
  list: requireCapability("view_audit")
    .input(
      z.object({
        actor: z.string().max(320).optional(),
        action: z.string().max(80).optional(),
        from: z.date().optional(),
        to: z.date().optional(),
        cursor: z.string().regex(/^\d{1,19}$/).optional(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .output(z.object({ entries: z.array(ZEntry), nextCursor: z.string().nullable(), actors: z.array(z.string()), actorsComplete: z.boolean(), actions: z.array(z.object({ action: z.string(), label: z.string() })) }))
    .query(({ ctx, input }) => viewAuditLog(ctx.db, ctx.user.tenantId, input)),
});
