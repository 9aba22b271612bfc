/**
 * The admin pages' plain list table (API keys, users, invites, destinations, OAuth apps, audit
 * log): a scrolling wrapper, one header row of column names ("" for an actions column, read out
 * to screen readers as "Actions"), and rows of `Cell`s.
 */
import type { ReactNode } from "react";

export function PlainTable({
  columns,
  children,
  label,
  testId,
  className = "",
}: {
  columns: string[];
  children: ReactNode;
  label?: string;
  testId?: string;
  className?: string;
}) {
  return (
    <div className={`overflow-x-auto ${className}`.trim()}>
      <table className="w-full text-left text-sm" aria-label={label} data-testid={testId}>
        <thead>
          <tr className="border-b border-slate-200 dark:border-slate-800">
            {columns.map((c, i) => (
              <th key={`${i}-${c}`} className="py-2 pr-4">
                {c === "" ? <span className="sr-only">Actions</span> : c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function Row({ children, top = false }: { children: ReactNode; top?: boolean }) {
  return <tr className={`border-b border-slate-100 dark:border-slate-800${top ? " align-top" : ""}`}>{children}</tr>;
}

export function Cell({ children, className = "" }: { children?: ReactNode; className?: string }) {
  return <td className={`py-2 pr-4 ${className}`.trim()}>{children}</td>;
}
