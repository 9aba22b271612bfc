"use client";
/**
 * The funnel dashboard: stages as a chart, coverage against the SLO (met / missed), the reason
 * buckets in words, and day-one coverage per cohort day. Refetches every few seconds so it stays
 * live while onboarding runs. The numbers are the tRPC funnel query's, i.e. GET /api/metrics/funnel's.
 */
import { useQuery } from "@tanstack/react-query";
import { usePathname, useRouter } from "next/navigation";
import { Bar, BarChart, CartesianGrid, Cell, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { RouterOutputs } from "@/server/trpc/router";
import { useTRPC } from "./trpc-provider";

type Funnel = RouterOutputs["funnel"]["get"];

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
/** a count as people read it: 10,000 */
const num = (n: number) => n.toLocaleString("en-US");

function SloCard({ f }: { f: Funnel }) {
  const met = f.slo_met;
  return (
    <div className={`rounded-xl border p-5 ${met ? "border-emerald-300 bg-emerald-50 dark:border-emerald-800 dark:bg-emerald-950" : "border-amber-300 bg-amber-50 dark:border-amber-800 dark:bg-amber-950"}`}>
      <p className="text-sm font-medium text-slate-600 dark:text-slate-300">Day-one coverage</p>
      <p className="mt-1 text-4xl font-semibold tabular-nums" data-testid="coverage">{pct(f.coverage)}</p>
      <p className="mt-1 text-sm">
        Target {pct(f.target)} ·{" "}
        <span data-testid="slo-state" className={met ? "font-semibold text-emerald-700 dark:text-emerald-300" : "font-semibold text-amber-800 dark:text-amber-300"}>
          {met ? "SLO met" : "SLO missed"}
        </span>
      </p>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
        {num(f.active)} of {num(f.eligible)} eligible data sources are active in Safe Mode.
      </p>
    </div>
  );
}

const STAGES: { key: keyof Funnel; label: string; color: string }[] = [
  { key: "received", label: "Received", color: "#94a3b8" },
  { key: "eligible", label: "Eligible", color: "#818cf8" },
  { key: "reachable", label: "Reachable", color: "#6366f1" },
  { key: "active", label: "Active", color: "#10b981" },
];

const BUCKETS: { key: keyof Funnel; label: string; hint: string }[] = [
  { key: "awaiting_credentials", label: "Awaiting credentials", hint: "a secret is missing or an admin must consent" },
  { key: "network_blocked", label: "Blocked by the network", hint: "DNS, firewall, timeout or egress policy" },
  { key: "healing", label: "Healing", hint: "reachable; the first sync will be retried" },
  { key: "error", label: "Error", hint: "needs a look" },
  { key: "pending", label: "Being onboarded", hint: "in progress" },
  { key: "unsupported_type", label: "Unsupported type", hint: "not counted as eligible" },
  { key: "not_sanctioned", label: "Not sanctioned", hint: "not counted as eligible" },
];

export function FunnelDashboard({ namespace, namespaces }: { namespace: string; namespaces: string[] }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const q = useQuery(trpc.funnel.get.queryOptions({ namespace }, { refetchInterval: 3_000 }));

  return (
    <section className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">Onboarding funnel</h1>
          <p className="text-sm text-slate-600 dark:text-slate-400">Counts are of distinct data sources, straight from the connection registry; updates every 3 seconds.</p>
        </div>
        <label className="text-sm">
          <span className="mr-2 font-medium">Namespace</span>
          <select
            value={namespace}
            onChange={(e) => router.push(`${pathname}?namespace=${encodeURIComponent(e.target.value)}`)}
            className="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-700 dark:bg-slate-900"
          >
            {namespaces.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>

      {q.isPending ? (
        <p className="text-slate-500">Loading the funnel…</p>
      ) : q.isError ? (
        <p role="status" className="rounded-md bg-red-50 px-3 py-2 text-red-800 dark:bg-red-950 dark:text-red-200">
          The funnel could not be loaded: {q.error.message}. Retrying…
        </p>
      ) : q.data.received === 0 ? (
        <div className="rounded-xl border border-dashed border-slate-300 p-8 text-center dark:border-slate-700">
          <p className="font-medium">Nothing received in “{namespace}” yet.</p>
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">When AOD posts connection intents, they appear here within seconds.</p>
        </div>
      ) : (
        <FunnelBody f={q.data} />
      )}
    </section>
  );
}

function FunnelBody({ f }: { f: Funnel }) {
  const stages = STAGES.map((s) => ({ name: s.label, value: Number(f[s.key] ?? 0), color: s.color }));
  return (
    <>
      <div className="grid gap-4 md:grid-cols-3">
        <SloCard f={f} />
        <div className="rounded-xl border border-slate-200 bg-white p-4 md:col-span-2 dark:border-slate-800 dark:bg-slate-900">
          <h2 className="mb-2 text-sm font-medium">Funnel stages</h2>
          <dl className="mb-2 grid grid-cols-4 gap-2 text-center" aria-label="Funnel stages">
            {stages.map((s) => (
              <div key={s.name}>
                <dt className="text-xs text-slate-500">{s.name}</dt>
                <dd className="text-xl font-semibold tabular-nums" data-testid={`stage-${s.name.toLowerCase()}`}>
                  {num(s.value)}
                </dd>
              </div>
            ))}
          </dl>
          <div className="h-48" aria-hidden>
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={stages} layout="vertical" margin={{ left: 16, right: 16 }}>
                <XAxis type="number" allowDecimals={false} stroke="currentColor" fontSize={12} />
                <YAxis type="category" dataKey="name" width={80} stroke="currentColor" fontSize={12} />
                <Tooltip />
                <Bar dataKey="value" isAnimationActive={false}>
                  {stages.map((s) => (
                    <Cell key={s.name} fill={s.color} />
                  ))}
                </Bar>
              </BarChart>
            </ResponsiveContainer>
          </div>
        </div>
      </div>

      <div className="grid gap-4 md:grid-cols-2">
        <div className="rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
          <h2 className="mb-3 text-sm font-medium">Why the rest are not active</h2>
          <ul className="space-y-2">
            {BUCKETS.map((b) => (
              <li key={b.key} className="flex items-baseline justify-between gap-3">
                <span>
                  {b.label} <span className="text-xs text-slate-500">— {b.hint}</span>
                </span>
                <span className="font-semibold tabular-nums" data-testid={`bucket-${b.key}`}>
                  {num(Number(f[b.key] ?? 0))}
                </span>
              </li>
            ))}
          </ul>
        </div>
        <div className="rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
          <h2 className="mb-2 text-sm font-medium">Day-one coverage by day first received (UTC)</h2>
          {f.day_one && f.day_one.length > 0 ? (
            <>
            <div className="h-48" aria-hidden>
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={f.day_one.map((d) => ({ day: d.day.slice(5), coverage: Math.round(d.coverage * 1000) / 10 }))} margin={{ left: 0, right: 16 }}>
                  <CartesianGrid strokeDasharray="3 3" opacity={0.3} />
                  <XAxis dataKey="day" stroke="currentColor" fontSize={12} />
                  <YAxis domain={[0, 100]} unit="%" stroke="currentColor" fontSize={12} />
                  <Tooltip formatter={(v) => `${v}%`} />
                  <ReferenceLine y={f.target * 100} stroke="#f59e0b" strokeDasharray="4 4" label={{ value: "target", fontSize: 11, fill: "#f59e0b" }} />
                  <Line type="monotone" dataKey="coverage" stroke="#10b981" strokeWidth={2} dot isAnimationActive={false} />
                </LineChart>
              </ResponsiveContainer>
            </div>
            {/* the chart's figures as text: for screen readers, and for the exact numbers */}
            <details className="mt-2 text-sm">
              <summary className="cursor-pointer text-slate-600 dark:text-slate-400">The figures by day</summary>
              <table className="mt-2 w-full text-left tabular-nums" data-testid="day-one-table">
                <thead className="text-xs text-slate-500">
                  <tr>
                    <th className="py-1 font-medium">Day (UTC)</th>
                    <th className="py-1 font-medium">Active on day one</th>
                    <th className="py-1 font-medium">Coverage</th>
                  </tr>
                </thead>
                <tbody>
                  {f.day_one.map((d) => (
                    <tr key={d.day} className="border-t border-slate-100 dark:border-slate-800">
                      <td className="py-1">{d.day}</td>
                      <td className="py-1">
                        {num(d.active_day_one)} of {num(d.eligible)} eligible
                      </td>
                      <td className="py-1">{pct(d.coverage)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
            </>
          ) : (
            <p className="text-sm text-slate-500">No cohorts in the last 30 days.</p>
          )}
        </div>
      </div>
    </>
  );
}
