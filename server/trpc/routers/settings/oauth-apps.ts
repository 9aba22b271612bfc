/**
 * Settings → OAuth apps (admins only): a tenant's own OAuth clients per vendor (and instance
 * host), for consent:<provider> or sp:<principal>. The secret goes in and never comes out: every
 * answer is an OAuthAppView (hasSecret: true). Changes are audited (oauth_app.added/updated/removed).
 */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { encryptionKeyFromEnv } from "../../../credentials/crypto";
import { addOAuthApp, listOAuthApps, oauthProviders, removeOAuthApp, updateOAuthApp, type OAuthAppError } from "../../../credentials/oauth-app-repository";
import type { Result } from "../../../lib/result";
import { FieldIssues } from "../../init";
import { actorOf, adminProcedure } from "./shared";

const CODE = { INVALID: "BAD_REQUEST", NOT_FOUND: "NOT_FOUND", CONFLICT: "CONFLICT", UNAVAILABLE: "PRECONDITION_FAILED" } as const;
function unwrap<T>(r: Result<T, OAuthAppError>): T {
  if (r.ok) return r.value;
  // a refused field goes to the form too, marked on its own input (errorFormatter: data.issues)
  const cause = r.error.field ? new FieldIssues(r.error.message, [{ path: r.error.field, message: r.error.message }]) : undefined;
  throw new TRPCError({ code: CODE[r.error.code], message: r.error.message, cause });
}

const ZInput = z.object({
  provider: z.string().min(1).max(64),
  instanceHost: z.string().max(260).default(""),
  principal: z.string().max(64).default(""),
  clientId: z.string().min(1).max(512),
  clientSecret: z.string().max(16_384).default(""),
  assertionKeyId: z.string().max(256).default(""),
  authorizeUrl: z.string().max(2048).default(""),
  tokenUrl: z.string().max(2048).default(""),
});

export const ZOAuthApp = z.object({
  id: z.string(),
  provider: z.string(),
  providerName: z.string(),
  instanceHost: z.string(),
  principal: z.string(),
  clientId: z.string(),
  hasSecret: z.literal(true),
  assertionKeyId: z.string().nullable(),
  authorizeUrl: z.string().nullable(),
  tokenUrl: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const listOAuthAppsProcedure = adminProcedure
  .output(z.object({ apps: z.array(ZOAuthApp), providers: z.array(z.object({ sourceType: z.string(), displayName: z.string(), perInstance: z.boolean(), instanceHint: z.string().nullable(), endpointsRequired: z.boolean() })) }))
  .query(async ({ ctx }) => ({ apps: await listOAuthApps(ctx.db, ctx.user.tenantId), providers: oauthProviders() }));

export const addOAuthAppProcedure = adminProcedure
  .input(ZInput)
  .output(ZOAuthApp)
  .mutation(async ({ ctx, input }) => unwrap(await addOAuthApp(ctx.db, encryptionKeyFromEnv(), ctx.user.tenantId, actorOf(ctx.user), input)));

export const updateOAuthAppProcedure = adminProcedure
  .input(ZInput.extend({ id: z.string().uuid() }))
  .output(ZOAuthApp)
  .mutation(async ({ ctx, input }) => unwrap(await updateOAuthApp(ctx.db, encryptionKeyFromEnv(), ctx.user.tenantId, actorOf(ctx.user), input.id, input)));

export const removeOAuthAppProcedure = adminProcedure
  .input(z.object({ id: z.string().uuid() }))
  .output(ZOAuthApp)
  .mutation(async ({ ctx, input }) => unwrap(await removeOAuthApp(ctx.db, ctx.user.tenantId, actorOf(ctx.user), input.id)));
