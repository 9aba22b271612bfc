/** What the settings procedures share: the admin-only base, the use-case deps, and the one error map. */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { submitDeps } from "../../../http/services";
import { getEnv } from "../../../env";
import type { Db } from "../../../db/client";
import type { DestinationAdminDeps, DestinationError } from "../../../onboarding/manage-destinations";
import type { Result } from "../../../lib/result";
import type { BindingError } from "../../../onboarding/manage-secret-bindings";
import { FieldIssues, requireCapability } from "../../init";

export const adminProcedure = requireCapability("manage_settings");

export function destinationDeps(db: Db): DestinationAdminDeps {
  return { db, enqueue: submitDeps().enqueue, dataDir: getEnv().dataDir };
}

export const actorOf = (user: { id?: string | null; email?: string | null }) => ({ id: user.id ?? null, label: user.email ?? user.id ?? "unknown admin" });

const CODE = { INVALID: "BAD_REQUEST", NOT_FOUND: "NOT_FOUND", NOT_BLOCKED: "CONFLICT", READ_ONLY: "FORBIDDEN" } as const;

export function unwrap<T>(r: Result<T, DestinationError>): T {
  if (r.ok) return r.value;
  // refused fields go to the form too, each under its own input (errorFormatter: data.issues)
  const cause = r.error.code === "INVALID" ? new FieldIssues(r.error.message, r.error.issues.map((i) => ({ path: i.field, message: i.message }))) : undefined;
  throw new TRPCError({ code: CODE[r.error.code], message: r.error.message, cause });
}

export const ZDestinationInput = z.object({
  pattern: z.string().max(300),
  ports: z.string().max(300).default(""),
  sourceTypes: z.array(z.string().max(64)).max(40).default([]),
  note: z.string().max(500).default(""),
});

export const ZDestination = z.object({
  id: z.string(),
  kind: z.enum(["host", "folder"]),
  pattern: z.string(),
  ports: z.array(z.number()),
  sourceTypes: z.array(z.string()),
  note: z.string(),
  createdBy: z.string(),
  createdAt: z.date(),
});
export const ZChangeOutcome = z.object({ destination: ZDestination, resumed: z.number() });

export const ZSecretBinding = z.object({
  id: z.string(),
  locator: z.string(),
  sourceType: z.string(),
  destination: z.string(),
  origin: z.enum(["first_use", "admin"]),
  connectionId: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.date(),
});

const BINDING_CODE = { NOT_FOUND: "NOT_FOUND", NOT_BOUND: "BAD_REQUEST", READ_ONLY: "FORBIDDEN", ALREADY_ALLOWED: "CONFLICT" } as const;

export function unwrapBinding<T>(r: Result<T, BindingError>): T {
  if (r.ok) return r.value;
  throw new TRPCError({ code: BINDING_CODE[r.error.code], message: r.error.message });
}
