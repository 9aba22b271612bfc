const STYLE: Record<string, string> = {
  ACTIVE: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  PENDING: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
  AWAITING_CREDENTIALS: "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300",
  NETWORK_BLOCKED: "bg-orange-100 text-orange-800 dark:bg-orange-950 dark:text-orange-300",
  HEALING: "bg-violet-100 text-violet-800 dark:bg-violet-950 dark:text-violet-300",
  ERROR: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  UNSUPPORTED: "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
  NOT_SANCTIONED: "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
};

const WORDS: Record<string, string> = {
  ACTIVE: "Active",
  PENDING: "Onboarding…",
  AWAITING_CREDENTIALS: "Awaiting credentials",
  NETWORK_BLOCKED: "Network blocked",
  HEALING: "Healing",
  ERROR: "Error",
  UNSUPPORTED: "Unsupported type",
  NOT_SANCTIONED: "Not sanctioned",
};

/** A status in the words the badge shows (the list's filter offers the same words). */
export const statusInWords = (status: string) => (WORDS[status] ?? status).replace(/…$/, "");

export function StatusBadge({ status }: { status: string }) {
  return <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-medium ${STYLE[status] ?? ""}`}>{WORDS[status] ?? status}</span>;
}
