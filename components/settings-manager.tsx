"use client";
/** The Settings page (admins): approved destinations, preview masking, and who changed what recently. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { actionLabel } from "@/lib/audit-words";
import type { RouterOutputs } from "@/lib/router-types";
import { portsInWords, SettingsDestinations, typesInWords } from "./settings-destinations";
import { SettingCheckbox } from "./row-actions";
import { SettingsOAuthApps } from "./settings-oauth-apps";
import { SettingsSecretBindings } from "./settings-secret-bindings";
import { useTRPC } from "./trpc-provider";

type Change = RouterOutputs["settings"]["get"]["recentChanges"][number];

const when = (d: Date | string) => `${new Date(d).toISOString().slice(0, 16).replace("T", " ")} UTC`;

function changeInWords(c: Change): string {
  const d = c.details as { kind?: string; pattern?: string; ports?: number[]; sourceTypes?: string[]; before?: { pattern?: string; ports?: number[]; sourceTypes?: string[] }; previewMasking?: boolean };
  const rule = (x: { pattern?: string; ports?: number[]; sourceTypes?: string[] } | undefined) =>
    x ? `${x.pattern ?? "?"} (${d.kind === "folder" ? "folder" : portsInWords(x.ports ?? [])}; ${typesInWords(x.sourceTypes ?? [])})` : c.target;
  switch (c.action) {
    case "destination.added":
      return `approved ${rule(d)}`;
    case "destination.updated":
      return `changed ${rule(d.before)} to ${rule((c.details as { after?: typeof d.before }).after)}`;
    case "destination.removed":
      return `removed ${rule(d)}`;
    case "destination.approved":
      return `approved ${c.target} from a connection page`;
    case "secret_binding.bound":
    case "secret_binding.allowed":
    case "secret_binding.removed": {
      const b = c.details as { sourceType?: string; destination?: string };
      const place = `${b.sourceType ?? "?"}${b.destination ? ` at ${b.destination}` : ""}`;
      if (c.action === "secret_binding.bound") return `bound ${c.target} to ${place}, where it was first used`;
      return c.action === "secret_binding.allowed" ? `allowed ${c.target} for ${place}` : `removed the binding of ${c.target} to ${place}`;
    }
    case "secret_binding.approval":
      return (c.details as { approvesFirstDestination?: boolean }).approvesFirstDestination ? "had admins approve each secret's first destination" : "let a secret's first successful use bind it";
    case "settings.preview_masking":
      return d.previewMasking ? "turned preview masking on" : "turned preview masking off";
    case "settings.changed": {
      const x = c.details as { safe_mode?: boolean; rate_per_minute?: number; max_sample_records?: number; slo_target?: number };
      const parts = [
        x.safe_mode === undefined ? null : `Safe Mode ${x.safe_mode ? "on" : "off"}`,
        x.rate_per_minute === undefined ? null : `${x.rate_per_minute.toLocaleString("en-US")} requests a minute per connection`,
        x.max_sample_records === undefined ? null : `a first sync of at most ${x.max_sample_records} records`,
        x.slo_target === undefined ? null : `an SLO target of ${(x.slo_target * 100).toFixed(1)}%`,
      ].filter(Boolean);
      return `set the “${c.target}” namespace to ${parts.length ? parts.join(", ") : "new settings"}`;
    }
    default:
      // an entry this page has no sentence for: the audit log's words for its action
      return `${actionLabel(c.action).toLowerCase()} (${c.target})`;
  }
}

export function SettingsManager() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.settings.get.queryOptions());
  // the box shows the admin's choice at once (a controlled checkbox would snap back until the server answers)
  const [choice, setChoice] = useState<boolean | null>(null);
  const masking = useMutation(
    trpc.settings.setPreviewMasking.mutationOptions({
      onSuccess: (r) => qc.setQueryData(trpc.settings.get.queryKey(), (old) => (old ? { ...old, previewMasking: r.previewMasking } : old)),
      onSettled: async () => {
        await qc.invalidateQueries({ queryKey: trpc.settings.get.queryKey() });
        setChoice(null);
      },
    }),
  );

  if (q.isPending) return <p className="text-slate-500">Loading settings…</p>;
  if (q.isError) return <p className="text-red-700 dark:text-red-300">{q.error.message}</p>;
  const s = q.data;

  return (
    <section className="space-y-8">
      <h1 className="text-2xl font-semibold">Settings</h1>

      <SettingsDestinations destinations={s.destinations} sourceTypes={s.sourceTypes} />

      <SettingsSecretBindings bindings={s.secretBindings} />

      <SettingsOAuthApps />

      <section aria-labelledby="privacy-heading" className="space-y-2">
        <h2 id="privacy-heading" className="text-lg font-semibold">
          Sample previews
        </h2>
        <SettingCheckbox
          label="Mask personal data in previews"
          checked={choice ?? s.previewMasking}
          pending={masking.isPending}
          onChange={(on) => {
            setChoice(on);
            masking.mutate({ on });
          }}
        >
          Emails, phone numbers and card-like numbers in the stored first-sync preview show their shape only (j•••@e•••.com, +1 •••-•••-••12, •••• 4242). Applies to previews stored from now
          on; secret-looking fields are always hidden.
        </SettingCheckbox>
        {masking.isError ? <p className="text-sm text-red-700 dark:text-red-300">{masking.error.message}</p> : null}
      </section>

      <section aria-labelledby="changes-heading" className="space-y-2">
        <h2 id="changes-heading" className="text-lg font-semibold">
          Recent changes
        </h2>
        {s.recentChanges.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">No changes yet.</p>
        ) : (
          <ol className="space-y-1 text-sm" data-testid="recent-changes">
            {s.recentChanges.map((c) => (
              <li key={c.id}>
                <span className="tabular-nums text-slate-500">{when(c.at)}</span> <span className="font-medium">{c.actorLabel}</span> {changeInWords(c)}
              </li>
            ))}
          </ol>
        )}
      </section>
    </section>
  );
}
