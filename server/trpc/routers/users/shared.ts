/** What the users procedures share: the admin-only base, the acting admin, the wire shapes and the one error map. */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { forgetSessionState } from "../../../auth/session-check";
import type { Db } from "../../../db/client";
import type { Result } from "../../../lib/result";
import type { Admin, PeopleDeps } from "../../../people/people-deps";
import type { PeopleError } from "../../../people/people-error";
import { FieldIssues, requireCapability } from "../../init";

export const usersProcedure = requireCapability("manage_users");

export const peopleDeps = (db: Db): PeopleDeps => ({ db });
export const adminOf = (user: { id: string; tenantId: string; email?: string | null }): Admin => ({ id: user.id, tenantId: user.tenantId, email: user.email ?? user.id });

const CODE = {
  NOT_FOUND: "NOT_FOUND",
  INVALID: "BAD_REQUEST",
  EMAIL_TAKEN: "CONFLICT",
  LAST_ADMIN: "CONFLICT",
  SELF: "FORBIDDEN",
  LINK_INVALID: "NOT_FOUND",
  WEAK_PASSWORD: "BAD_REQUEST",
  DISABLED: "CONFLICT",
} as const;

/** `field`: the form input a refusal of the given codes concerns (marked on it: errorFormatter's data.issues). */
export function unwrap<T>(r: Result<T, PeopleError>, field?: { path: string; codes: readonly PeopleError["code"][] }): T {
  if (r.ok) return r.value;
  const cause = field && field.codes.includes(r.error.code) ? new FieldIssues(r.error.message, [{ path: field.path, message: r.error.message }]) : undefined;
  throw new TRPCError({ code: CODE[r.error.code], message: r.error.message, cause });
}

/** Sessions of this user are re-read at their next request in this process (others within SESSION_RECHECK_MS). */
export function sessionsChanged<T extends { id: string }>(person: T): T {
  forgetSessionState(person.id);
  return person;
}

export const ZRole = z.enum(["admin", "exec"]);
export const ZUserId = z.object({ userId: z.uuid() });

export const ZPerson = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  role: ZRole,
  disabledAt: z.date().nullable(),
  createdAt: z.date(),
  hasPassword: z.boolean(),
  sso: z.boolean(),
});

/** A link shown once: the page prefixes its own origin to `path`. */
export const ZIssuedLink = z.object({ id: z.string(), email: z.string(), role: ZRole, path: z.string(), expiresAt: z.date() });
