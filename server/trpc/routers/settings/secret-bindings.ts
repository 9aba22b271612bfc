import { z } from "zod";
import { submitDeps } from "../../../http/services";
import { allowSecretForConnection, changeSecretBindingApproval, removeSecretBinding as remove } from "../../../onboarding/manage-secret-bindings";
import { actorOf, adminProcedure, unwrapBinding, ZSecretBinding } from "./shared";

/** "Allow this secret here" on a connection page refused for its secret's binding. */
export const allowSecretHere = adminProcedure
  .input(z.object({ connectionId: z.string().uuid() }))
  .output(z.object({ binding: ZSecretBinding, resumed: z.number() }))
  .mutation(async ({ ctx, input }) => unwrapBinding(await allowSecretForConnection({ db: ctx.db, enqueue: submitDeps().enqueue }, ctx.user.tenantId, actorOf(ctx.user), input.connectionId)));

/** Settings: remove one of a secret's bindings. */
export const removeSecretBinding = adminProcedure
  .input(z.object({ id: z.string().uuid() }))
  .output(z.object({ binding: ZSecretBinding }))
  .mutation(async ({ ctx, input }) => ({ binding: unwrapBinding(await remove(ctx.db, ctx.user.tenantId, actorOf(ctx.user), input.id)) }));

/** Settings: have admins approve every secret's first destination (on), or let its first successful use bind it (off). */
export const setSecretBindingApproval = adminProcedure
  .input(z.object({ on: z.boolean() }))
  .output(z.object({ secretBindingApproval: z.boolean() }))
  .mutation(({ ctx, input }) => changeSecretBindingApproval(ctx.db, ctx.user.tenantId, actorOf(ctx.user), input.on));
