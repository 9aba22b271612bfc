import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../../audit/audit-repository";
import { createApiKey, listApiKeys, revokeApiKey } from "../../auth/api-key-repository";
import { cleanString } from "../../onboarding/schemas";
import { requireCapability, router } from "../init";

const admin = requireCapability("manage_api_keys");
const actor = (u: { id: string; email?: string | null }) => ({ id: u.id, label: u.email ?? u.id });

export const apiKeysRouter = router({
  list: admin.query(({ ctx }) => listApiKeys(ctx.db, ctx.user.tenantId)),
  create: admin
    .input(z.object({ name: cleanString(80).trim().min(1, "Give the key a name, e.g. “AOD production”.") }))
    .mutation(async ({ ctx, input }) => {
      const { key, row } = await createApiKey(ctx.db, ctx.user.tenantId, input.name);
      // the audit log names the key and its public prefix, never the key
      await recordAudit(ctx.db, ctx.user.tenantId, actor(ctx.user), "api_key.created", row.name, { key_id: row.id, prefix: row.prefix });
      return { key, id: row.id, prefix: row.prefix, name: row.name };
    }),
  revoke: admin.input(z.object({ id: z.string().uuid() })).mutation(async ({ ctx, input }) => {
    const revoked = await revokeApiKey(ctx.db, ctx.user.tenantId, input.id);
    if (!revoked) throw new TRPCError({ code: "NOT_FOUND", message: "This key is already revoked, or no longer exists; the list now shows its state." });
    // named as when it was created (the audit log names the key and its public prefix, never the key)
    await recordAudit(ctx.db, ctx.user.tenantId, actor(ctx.user), "api_key.revoked", revoked.name, { key_id: input.id, prefix: revoked.prefix });
    return { revoked: true };
  }),
});
