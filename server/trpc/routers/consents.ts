/** Admin consent: the connections waiting for it, and what one consent would request. */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { getCatalogEntry } from "../../connectors/catalog";
import { describeConsent } from "../../credentials/consent-flow";
import { encryptionKeyFromEnv } from "../../credentials/crypto";
import { countAwaitingConsentByLocator, listAwaitingConsent } from "../../onboarding/connection-repository";
import { requireCapability, router } from "../init";

const admin = requireCapability("consent");

/** How many connections the pending list shows (the newest); `total` and `providers` count them all. */
export const PENDING_LISTED = 200;

const ZPending = z.object({
  /** the newest PENDING_LISTED connections waiting on a consent */
  connections: z.array(
    z.object({
      id: z.string(),
      namespace: z.string(),
      sourceType: z.string(),
      resourceIds: z.array(z.string()),
      provider: z.string(),
      /** the catalog's name of the provider ("GitHub") */
      providerName: z.string(),
      reason: z.string().nullable(),
      updatedAt: z.date(),
    }),
  ),
  /** every connection waiting on a consent */
  total: z.number().int().nonnegative(),
  /** one consent per provider: how many wait on it, and the connection whose consent screen gives it */
  providers: z.array(z.object({ provider: z.string(), displayName: z.string(), waiting: z.number().int().positive(), connectionId: z.string() })),
  /** providers that wait beyond the busiest `providers` lists */
  providersBeyond: z.number().int().nonnegative(),
});

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
  pending: admin.output(ZPending).query(async ({ ctx }) => {
    const [listed, waiting] = await Promise.all([listAwaitingConsent(ctx.db, ctx.user.tenantId, { limit: PENDING_LISTED }), countAwaitingConsentByLocator(ctx.db, ctx.user.tenantId)]);
    const provider = (locator: string) => locator.slice("consent:".length);
    // the catalog's name ("GitHub"); a locator naming no catalog entry is shown as written
    const nameOf = (locator: string) => getCatalogEntry(provider(locator))?.displayName ?? provider(locator);
    return {
      connections: listed.map((c) => ({
        id: c.id,
        namespace: c.namespace,
        sourceType: c.sourceType,
        resourceIds: c.resourceIds,
        provider: provider(c.credentialLocator),
        providerName: nameOf(c.credentialLocator),
        reason: c.statusReason,
        updatedAt: c.updatedAt,
      })),
      total: waiting.total,
      providersBeyond: waiting.locators - waiting.byLocator.length,
      providers: waiting.byLocator.map((g) => ({
        provider: provider(g.locator),
        displayName: nameOf(g.locator),
        waiting: g.waiting,
        connectionId: g.newestId,
      })),
    };
  }),
  get: admin
    .input(z.object({ id: z.uuid() }))
    .output(ZSummary)
    .query(async ({ ctx, input }) => {
      const summary = await describeConsent({ db: ctx.db, encryptionKey: encryptionKeyFromEnv() }, ctx.user.tenantId, input.id);
      if (!summary) throw new TRPCError({ code: "NOT_FOUND", message: "No connection has this id." });
      return summary;
    }),
});
