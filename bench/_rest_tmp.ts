import { fork } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { createSafeHttp } from "../server/connectors/safe-mode/http";
import { makePolicy } from "../server/connectors/safe-mode/policy";
import { LOOPBACK_APPROVED } from "../server/connectors/safe-mode/test-destinations";
import { createRestDriver } from "../server/connectors/drivers/rest";

const child = fork("bench/sandbox-process.ts", [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] });
const ready = await new Promise<{ github: string; token: string }>((r) => child.on("message", (m: any) => m.type === "ready" && r(m)));
const safe = createSafeHttp({ retries: 0 });
const driver = createRestDriver(safe);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
const N = Number(process.argv[2] ?? 300);
const SLEEP = Number(process.argv[3] ?? 0);
let k = 0;
const stages: Record<string, number[]> = { health: [], discover: [], total: [] };
for (let i = 0; i < N; i++) {
  if (SLEEP) await sleep(SLEEP);
  const ac = new AbortController();
  const c = { connectionId: `x${++k}`, sourceType: "github", resourceIds: ["acme"], config: { base_url: ready.github, org: "acme" }, secret: { token: ready.token }, policy: makePolicy(JSON.parse(process.argv[4] ?? "{}")), destinations: LOOPBACK_APPROVED, ...(process.argv[5] === "nosig" ? {} : { signal: ac.signal }) } as any;
  const t0 = cpu();
  const o = await driver.openAttempt!(c); if (!o.ok) throw new Error(o.error.message);
  const h = await o.value.healthCheck(); if (!h.ok) throw new Error("h " + h.error.message);
  const t2 = cpu(); const d = await o.value.discover(); if (!d.ok) throw new Error("d");
  const t3 = cpu(); const s = await o.value.sample(d.value); if (!s.ok) throw new Error("s");
  await o.value.close(); const t5 = cpu();
  if (i > N / 3) { stages.health!.push(t2 - t0); stages.discover!.push(t3 - t2); stages.total!.push(t5 - t0); }
}
const p50 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!.toFixed(3);
console.log(`sleep ${SLEEP}:`, Object.entries(stages).map(([k2, v]) => `${k2} ${p50(v)}`).join("  "));
child.kill(); process.exit(0);
