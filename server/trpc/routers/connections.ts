import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { submitDeps } from "../../http/services";
import { searchesInsideText, SHORT_OWNER_MESSAGE } from "../../onboarding/search-text";
import { distinctSourceTypes, listConnections, listNamespaces, parseCursor, SORTABLE, viewConnectionPage } from "../../onboarding/connection-query";
import { createPipelineDeps } from "../../onboarding/deps";
import { bindingOfConnection } from "../../onboarding/manage-secret-bindings";
import { healConnections, HealRefused, queueHeal } from "../../onboarding/heal";
import { cleanString, NAMESPACE_RE, StatusSchema } from "../../onboarding/schemas";
import { recordAudit } from "../../audit/audit-repository";
import { can } from "../../auth/roles";
import { requireCapability, router } from "../init";

const Namespace = z.string().regex(NAMESPACE_RE);
const CURSOR_MESSAGE = "This is not where a page of this list, in this sort, ended: start again from the first page.";

const healStarted = (ctx: { db: Parameters<typeof recordAudit>[0]; user: { id: string; tenantId: string; email?: string | null } }, namespace: string, target: string, details: Record<string, unknown>) =>
  recordAudit(ctx.db, ctx.user.tenantId, { id: ctx.user.id, label: ctx.user.email ?? ctx.user.id }, "heal.started", target, { namespace, ...details });

async function refusedAsForbidden<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof HealRefused) throw new TRPCError({ code: "FORBIDDEN", message: e.message });
    throw e;
  }
}

export const connectionsRouter = router({
  namespaces: requireCapability("view_funnel").query(({ ctx }) => listNamespaces(ctx.db, ctx.user.tenantId)),
  sourceTypes: requireCapability("view_connections")
    .input(z.object({ namespace: Namespace }))
    .query(({ ctx, input }) => distinctSourceTypes(ctx.db, ctx.user.tenantId, input.namespace)),
  list: requireCapability("view_connections")
    .input(
      z.object({
        namespace: Namespace,
        status: z.array(StatusSchema).max(8).optional(),
        sourceType: cleanString(64).optional(),
        risk: z.enum(["low", "med", "high"]).optional(),
        owner: cleanString(320).refine(searchesInsideText, SHORT_OWNER_MESSAGE).optional(),
        q: cleanString(200).optional(),
        sort: z.enum(SORTABLE).default("updatedAt"),
        dir: z.enum(["asc", "desc"]).default("desc"),
        page: z.number().int().min(1).max(100_000).default(1),
        pageSize: z.number().int().min(10).max(100).default(25),
        /** the page after this one: `nextCursor` of the page before (keyset paging; `page` is then only the page's number) */
        after: z.string().max(1_024).optional(),
      }).transform(({ after, ...q }, ctx) => {
        // the cursor read once, against the list's sort: refused naming the field, or handed on parsed
        if (after === undefined) return q;
        const cursor = parseCursor(after, q.sort, q.dir);
        if (!cursor) {
          ctx.addIssue({ code: "custom", path: ["after"], message: CURSOR_MESSAGE });
          return z.NEVER;
        }
        return { ...q, after: cursor };
      }),
    )
    .query(({ ctx, input }) => listConnections(ctx.db, ctx.user.tenantId, input)),
  get: requireCapability("view_connections")
    .input(z.object({ id: z.string().uuid() }))
    .query(async ({ ctx, input }) => {
      const view = await viewConnectionPage(ctx.db, ctx.user.tenantId, input.id);
      if (!view) throw new TRPCError({ code: "NOT_FOUND", message: "No connection has this id." });
      // the page offers "Approve this destination" / "Allow this secret here" only to those the settings procedures accept
      const admin = can(ctx.user.role, "manage_settings");
      // refused for its secret's binding: where the secret is bound and where this connection would send it
      const binding = view.status === "NETWORK_BLOCKED" && view.blocked_destination === null ? await bindingOfConnection(ctx.db, ctx.user.tenantId, input.id) : null;
      const secretBinding = binding && !binding.allowed ? { locator: binding.locator, source_type: binding.sourceType, destination: binding.destination, bound: binding.bound.map((b) => ({ source_type: b.sourceType, destination: b.destination, origin: b.origin, created_at: b.createdAt })), bound_total: binding.boundTotal } : null;
      return { ...view, can_approve_destination: view.blocked_destination !== null && admin, secret_binding: secretBinding, can_allow_secret: secretBinding !== null && admin };
    }),
  /** one connection, inline: the admin watches it finish */
  heal: requireCapability("heal")
    .input(z.object({ namespace: Namespace, id: z.string().uuid() }))
    .mutation(({ ctx, input }) =>
      refusedAsForbidden(async () => {
        const report = await healConnections(createPipelineDeps(ctx.db), ctx.user.tenantId, input.namespace, { connectionId: input.id });
        // only a connection of this tenant that was healed is named (an unknown id records nothing)
        if (report.total > 0) await healStarted(ctx, input.namespace, `connection:${input.id}`, { connections: report.total, healed: report.healed });
        return report;
      }),
    ),
  /** a whole namespace, on the durable queue; the list shows each as it finishes */
  healAll: requireCapability("heal")
    .input(z.object({ namespace: Namespace }))
    .mutation(({ ctx, input }) =>
      refusedAsForbidden(async () => {
        const queued = await queueHeal(ctx.db, submitDeps().enqueue, ctx.user.tenantId, input.namespace);
        await healStarted(ctx, input.namespace, `namespace:${input.namespace}`, { connections: queued.queued });
        return queued;
      }),
    ),
});
