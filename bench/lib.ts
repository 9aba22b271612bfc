/** Small helpers shared by the benchmarks: quantiles, machine conditions, per-process CPU and memory from /proc. */
import fs from "node:fs";
import os from "node:os";

export const q = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
export const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : "–");
export const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "–");
export const pad = (s: string, n: number): string => (s.length >= n ? s : s + " ".repeat(n - s.length));
export const lpad = (s: string, n: number): string => (s.length >= n ? s : " ".repeat(n - s.length) + s);

/** "load 1.23 0.98 0.75" — printed with every section so a noisy figure can be told from a slow one. */
export function conditions(): string {
  const [a, b, c] = os.loadavg();
  return `load average ${a!.toFixed(2)} ${b!.toFixed(2)} ${c!.toFixed(2)} on ${os.cpus().length} cores`;
}

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

/** CPU time (user + system, ms), current RSS and peak RSS (VmHWM, MB) of a process, from /proc. */
export function procStats(pid: number): { cpuMs: number; childCpuMs: number; ppid: number; rssMb: number; peakRssMb: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime (fields 14, 15)
    const childCpuMs = (Number(fields[13]) + Number(fields[14])) * TICK_MS; // cutime, cstime: waited-for children (a postmaster's exited backends)
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    return { cpuMs, childCpuMs, ppid: Number(fields[1]), rssMb: kb("VmRSS") / 1024, peakRssMb: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now() + performance.timeOrigin;

/**
 * CPU ms of a local PostgreSQL server: the postmaster, its live children (backends, autovacuum,
 * walwriter…) and, through its cutime/cstime, the backends that already exited.
 */
export function postgresCpuMs(postmasterPid: number): number {
  let total = 0;
  const pm = procStats(postmasterPid);
  if (pm) total += pm.cpuMs + pm.childCpuMs;
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const s = procStats(Number(d));
    if (s && s.ppid === postmasterPid) total += s.cpuMs;
  }
  return total;
}
