"use client";
/** What the admin tables' rows share: a "Remove" asked first, and how many connections a change resumed, in words. */
import { useState } from "react";

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
