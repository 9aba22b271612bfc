/** Admin consent: the connections waiting for it, and what one consent would request. */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { describeConsent } from "../../credentials/consent-flow";
import { encryptionKeyFromEnv } from "../../credentials/crypto";
import { listAwaitingConsent } from "../../onboarding/connection-repository";
import { requireCapability, router } from "../init";

const admin = requireCapability("consent");

const ZPending = z.array(
  z.object({
    id: z.string(),
    namespace: z.string(),
    sourceType: z.string(),
    resourceIds: z.array(z.string()),
    provider: z.string(),
    reason: z.string().nullable(),
    updatedAt: z.date(),
  }),
);

const ZSummary = z.object({
  connectionId: z.string(),
  provider: z.string(),
  displayName: z.string(),
  sourceType: z.string(),
  sourceName: z.string(),
  namespace: z.string(),
  resourceIds: z.array(z.string()),
  scopes: z.array(z.string()),
  authorizationHost: z.string().nullable(),
  blocked: z.string().nullable(),
  /** every connection one consent resumes (this one first): the consent screen lists them */
  covers: z.array(z.object({ id: z.string(), namespace: z.string(), sourceType: z.string(), resourceIds: z.array(z.string()) })),
  /** how many more wait on the same consent than one screen lists */
  waitingBeyond: z.number().int().nonnegative(),
});

export const consentsRouter = router({
  pending: admin.output(ZPending).query(async ({ ctx }) =>
    (await listAwaitingConsent(ctx.db, ctx.user.tenantId)).map((c) => ({
      id: c.id,
      namespace: c.namespace,
      sourceType: c.sourceType,
      resourceIds: c.resourceIds,
      provider: c.credentialLocator.slice("consent:".length),
      reason: c.statusReason,
      updatedAt: c.updatedAt,
    })),
  ),
  get: admin
    .input(z.object({ id: z.uuid() }))
    .output(ZSummary)
    .query(async ({ ctx, input }) => {
      const summary = await describeConsent({ db: ctx.db, encryptionKey: encryptionKeyFromEnv() }, ctx.user.tenantId, input.id);
      if (!summary) throw new TRPCError({ code: "NOT_FOUND", message: "No connection has this id." });
      return summary;
    }),
});
