/**
 * tRPC building blocks: context (session + db), and procedures that enforce roles on the server.
 * Routers stay thin: parse input, call one use-case, return plain data.
 */
import { randomUUID } from "node:crypto";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import type { Session } from "next-auth";
import { auth } from "../auth/config";
import { can, type Capability } from "../auth/roles";
import { getDb, type Db } from "../db/client";
import { logger } from "../lib/logger";

export type Context = { session: Session | null; db: Db };

export async function createContext(): Promise<Context> {
  return { session: await auth(), db: getDb() };
}

/** Field labels of the words an admin reads, for an input's paths (the schema's message already names most). */
const FIELD_WORDS: Record<string, string> = { sourceTypes: "Source types", clientId: "Client id", clientSecret: "Client secret", ports: "Ports", pattern: "Pattern", note: "Note", name: "Name" };

/** One sentence per problem: "Ports: … ; Note: …" (a single problem as it is). */
/** Thrown as a TRPCError's cause by a use-case that refused some fields: the formatter hands them to the form as `data.issues`. */
export class FieldIssues extends Error {
  override name = "FieldIssues";
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(message);
  }
}

export function inputMessage(issues: readonly { path: string; message: string }[]): string {
  if (issues.length === 1) return issues[0]!.message;
  return issues.map((i) => (i.path ? `${FIELD_WORDS[i.path.split(".")[0]!] ?? i.path}: ${i.message}` : i.message)).join("; ");
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  isDev: false, // never send stack traces to the browser
  // Unexpected errors (Prisma text, hosts, table names) never reach the browser: a generic
  // sentence with a reference that finds the logged error.
  errorFormatter({ shape, error, path }) {
    // an input that fails its schema: the schema's own sentences (with the field they concern), never zod's JSON of them
    if (error.code === "BAD_REQUEST" && error.cause instanceof ZodError) {
      const issues = error.cause.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
      return { ...shape, message: inputMessage(issues), data: { ...shape.data, issues } };
    }
    // a use-case's own refusal of fields (a destination's pattern, an e-mail already in use): its sentence, and which fields, for the form
    if (error.cause instanceof FieldIssues) return { ...shape, data: { ...shape.data, issues: error.cause.issues } };
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
