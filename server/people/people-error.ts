/** Expected refusals of the people use-cases, in words; one map (trpc/routers/users/shared.ts) turns codes into tRPC errors. */
export type PeopleErrorCode = "NOT_FOUND" | "INVALID" | "EMAIL_TAKEN" | "LAST_ADMIN" | "SELF" | "LINK_INVALID" | "WEAK_PASSWORD" | "DISABLED";
export type PeopleError = { code: PeopleErrorCode; message: string };

export const peopleError = (code: PeopleErrorCode, message: string): PeopleError => ({ code, message });
export const NO_SUCH_USER = peopleError("NOT_FOUND", "No user of this tenant has this id.");
