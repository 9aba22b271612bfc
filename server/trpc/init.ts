/**
 * tRPC building blocks: context (session + db), and procedures that enforce roles on the server.
 * Routers stay thin: parse input, call one use-case, return plain data.
 */
import { randomUUID } from "node:crypto";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import type { Session } from "next-auth";
import { auth } from "../auth/config";
import { can, type Capability } from "../auth/roles";
import { getDb, type Db } from "../db/client";
import { logger } from "../lib/logger";

export type Context = { session: Session | null; db: Db };

export async function createContext(): Promise<Context> {
  return { session: await auth(), db: getDb() };
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  isDev: false, // never send stack traces to the browser
  // Unexpected errors (Prisma text, hosts, table names) never reach the browser: a generic
  // sentence with a reference that finds the logged error.
  errorFormatter({ shape, error, path }) {
    if (error.code !== "INTERNAL_SERVER_ERROR") return shape;
    const ref = randomUUID().slice(0, 8);
    const cause = error.cause ?? error;
    logger().error({ ref, path, failure: { name: cause.name, message: cause.message.slice(0, 500) } }, "tRPC procedure failed");
    return { ...shape, message: `Something went wrong on the server (reference ${ref}); try again, or give an admin this reference.` };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure;

export const authedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.session?.user?.id) throw new TRPCError({ code: "UNAUTHORIZED", message: "Please sign in." });
  return next({ ctx: { ...ctx, user: ctx.session.user } });
});

export function requireCapability(capability: Capability) {
  return authedProcedure.use(({ ctx, next }) => {
    if (!can(ctx.user.role, capability)) {
      throw new TRPCError({ code: "FORBIDDEN", message: "Your role does not allow this action. Ask an admin." });
    }
    return next();
  });
}
