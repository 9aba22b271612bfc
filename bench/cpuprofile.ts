/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per module group
 * (a package under node_modules, a folder of this repo, node internals, GC, idle), so the bench
 * can print where the web process's CPU went during the batch.
 */
import fs from "node:fs";

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] };
type Profile = { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

function groupOf(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  if (url.startsWith("node:")) return "node internals";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const repo = /\/(server|app|bench|scripts|lib)\/(?:([^/]+)\/)?/.exec(url);
  if (repo) return repo[2] && !repo[2].includes(".") ? `${repo[1]}/${repo[2]}` : repo[1]!;
  return url.split("/").slice(-2).join("/");
}

export function summarizeCpuProfile(file: string, top = 15, during = "the batch", who = "the web + worker process"): string {
  const p = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url ? `${url.replace(/^.*\/(node_modules|server|app|bench|scripts)\//, "$1/")}:${lineNumber + 1}` : "";
    const fnKey = `${functionName || "(anonymous)"} ${where}`.trim();
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + ms);
    const g = groupOf(url, functionName);
    byGroup.set(g, (byGroup.get(g) ?? 0) + ms);
  }
  const idle = byGroup.get("(idle)") ?? 0;
  const busy = total - idle;
  const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1)}%`.padStart(6);
  const lines = [`   CPU profile of ${who} during ${during}: ${(busy / 1000).toFixed(1)} s busy of ${(total / 1000).toFixed(1)} s sampled`];
  lines.push(`   by module (self time, share of busy time):`);
  for (const [g, ms] of [...byGroup.entries()].filter(([g]) => g !== "(idle)").sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`     ${pct(ms)}  ${g}`);
  lines.push(`   top functions (self time; for the first few, the JS frames that called them):`);
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fnKeyOf = (n: Node) => {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url ? `${url.replace(/^.*\/(node_modules|server|app|bench|scripts)\//, "$1/")}:${lineNumber + 1}` : "";
    return `${functionName || "(anonymous)"} ${where}`.trim();
  };
  const ranked = [...byFn.entries()].filter(([f]) => !f.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [rank, [f, ms]] of ranked.entries()) {
    lines.push(`     ${pct(ms)}  ${f.slice(0, 140)}`);
    if (rank >= 3 || f.startsWith("(garbage")) continue;
    // the nearest caller outside node internals, weighted by self time
    const callers = new Map<string, number>();
    for (const [id, t] of self) {
      const n = byId.get(id)!;
      if (fnKeyOf(n) !== f) continue;
      let up = parent.get(id);
      while (up !== undefined && (!byId.get(up)!.callFrame.url || byId.get(up)!.callFrame.url.startsWith("node:"))) up = parent.get(up);
      const key = up === undefined ? "(root)" : fnKeyOf(byId.get(up)!);
      callers.set(key, (callers.get(key) ?? 0) + t);
    }
    for (const [c, t] of [...callers.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3)) lines.push(`              ← ${pct(t).trim()} via ${c.slice(0, 120)}`);
  }
  return `${lines.join("\n")}\n`;
}
