"use client";
/** What the admin pages share: a row's "Remove" asked first, how many connections a change resumed in words, a setting's checkbox. */
import { useState, type ReactNode } from "react";

const rowButton = "rounded-md border border-slate-300 px-2 py-1 text-sm hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800";

/** A table row's "Remove", asked first ("Confirm removal" / "Keep"); `what` names the row for screen readers. */
export function RemoveWithConfirm({ what, pending, error, onRemove }: { what: string; pending: boolean; error?: string | null; onRemove: () => void }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <>
      {confirming ? (
        <>
          <button type="button" disabled={pending} className={`${rowButton} border-red-400 text-red-700 dark:text-red-300`} onClick={onRemove}>
            Confirm removal <span className="sr-only">of {what}</span>
          </button>{" "}
          <button type="button" className={rowButton} onClick={() => setConfirming(false)}>
            Keep
          </button>
        </>
      ) : (
        <button type="button" className={rowButton} onClick={() => setConfirming(true)}>
          Remove <span className="sr-only">{what}</span>
        </button>
      )}
      {error ? <p className="text-sm text-red-700 dark:text-red-300">{error}</p> : null}
    </>
  );
}

/** "this connection" or "N connections": how many an admin's change resumed. */
export const resumedInWords = (n: number) => (n === 1 ? "this connection" : `${n.toLocaleString("en-US")} connections`);

/** A tenant setting's checkbox: shows the admin's choice at once (a controlled box would snap back until the server answers). */
export function SettingCheckbox({ label, children, checked, pending, onChange }: { label: string; children: ReactNode; checked: boolean; pending: boolean; onChange: (on: boolean) => void }) {
  return (
    <label className="flex items-start gap-2 text-sm">
      <input type="checkbox" className="mt-1" checked={checked} disabled={pending} onChange={(e) => onChange(e.target.checked)} />
      <span>
        <span className="font-medium">{label}</span>
        <span className="block text-slate-600 dark:text-slate-400">{children}</span>
      </span>
    </label>
  );
}
