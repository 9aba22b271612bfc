"use client";
/**
 * A refused form field says so on itself: the server names the fields it refused (a tRPC error's
 * `data.issues`, server/trpc/init.ts), and each input gets `aria-invalid` and its sentence under
 * it as the input's accessible description — the form's one sentence stays for the whole.
 */
import { useId } from "react";

export type Issue = { path: string; message: string };

/** The fields a refused change named (the server's `data.issues`). */
export function fieldIssuesOf(error: unknown): Issue[] {
  const issues = (error as { data?: { issues?: unknown } } | null)?.data?.issues;
  return Array.isArray(issues) ? issues.filter((i): i is Issue => typeof i?.path === "string" && typeof i?.message === "string") : [];
}

/** `mark(field)`: the input's aria attributes; `note(field)`: the sentence under it (or null when the field is fine). */
export function useFieldMarks(issuesOrError: readonly Issue[] | unknown) {
  const id = useId();
  const issues = Array.isArray(issuesOrError) ? (issuesOrError as Issue[]) : fieldIssuesOf(issuesOrError);
  const issueOf = (field: string) => issues.find((i) => i.path === field);
  return {
    mark: (field: string) => (issueOf(field) ? { "aria-invalid": true as const, "aria-describedby": `${id}-${field}` } : {}),
    note: (field: string) => {
      const issue = issueOf(field);
      return issue ? (
        <span id={`${id}-${field}`} className="mt-1 block max-w-xs text-xs text-red-700 dark:text-red-300">
          {issue.message}
        </span>
      ) : null;
    },
  };
}
