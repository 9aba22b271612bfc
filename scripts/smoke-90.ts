/**
 * `make smoke-90`: onboard the 5 sample intents in seeds/intents/ through the real REST endpoint,
 * against sources that exist on a fresh machine (the SANDBOX sources: the embedded PostgreSQL's
 * read-only sandbox schema, local files, the local vendor-API and S3 stand-ins), print what
 * happened in words, and exit non-zero unless their coverage is ≥ 0.90.
 * Uses the app at SMOKE_URL / PORT, or starts it (and stops it afterwards) when it is not running.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { generateApiKey } from "../server/auth/api-keys";
import { childEnv, parseEnv } from "../server/env";
import { openCli, runCli } from "./lib/cli";

const root = path.resolve(import.meta.dirname, "..");

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/api/health`)).ok;
  } catch {
    return false;
  }
}

async function startApp(url: string): Promise<ChildProcess> {
  console.log(`No app answers at ${url}; starting it (npm start)…`);
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], { cwd: root, env: childEnv({}), stdio: ["ignore", "pipe", "inherit"] });
  child.stdout!.on("data", (d: Buffer) => {
    const line = d.toString();
    if (/\[aam\]/.test(line) && !/API key|login/i.test(line)) process.stdout.write(line);
  });
  const end = Date.now() + 300_000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error("The app exited while starting; run `npm start` to see why.");
    if (await healthy(url)) return child;
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill("SIGTERM");
  throw new Error("The app did not become healthy within 5 minutes.");
}

runCli(async () => {
  const env = parseEnv(process.env, { createSecrets: true });
  const url = (env.SMOKE_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/$/, "");
  const app = (await healthy(url)) ? undefined : await startApp(url);
  const cli = await openCli();
  const key = generateApiKey();
  const keyRow = await cli.db.apiKey.create({ data: { tenantId: cli.tenantId, name: "smoke-90 (temporary)", prefix: key.prefix, hash: key.hash }, select: { id: true } });
  try {
    const dir = path.join(root, "seeds", "intents");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
    console.log(`Onboarding ${files.length} sample intents through ${url}/api/connections/onboard …`);
    let eligible = 0;
    let active = 0;
    for (const f of files) {
      const body = fs.readFileSync(path.join(dir, f), "utf8");
      const t0 = performance.now();
      const res = await fetch(`${url}/api/connections/onboard`, { method: "POST", headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" }, body });
      let out = (await res.json()) as { status?: string; message?: string; first_sync_rows?: number; connection_id?: string; status_url?: string; error?: { code: string; message: string } };
      // past the time budget the API answers 202: follow the status URL until it is final
      for (let i = 0; res.status === 202 && out.status === "PENDING" && i < 120; i++) {
        await new Promise((r) => setTimeout(r, 500));
        out = (await (await fetch(`${url}${out.status_url}`, { headers: { authorization: `Bearer ${key.key}` } })).json()) as typeof out;
      }
      const ms = Math.round(performance.now() - t0);
      const status = out.status ?? out.error?.code ?? `HTTP ${res.status}`;
      if (!["UNSUPPORTED", "NOT_SANCTIONED"].includes(status)) eligible++;
      if (status === "ACTIVE") active++;
      const detail = status === "ACTIVE" ? `${out.first_sync_rows} records in the first sync` : (out.message ?? out.error?.message ?? "");
      console.log(`  ${status === "ACTIVE" ? "✔" : "✘"} ${f.padEnd(30)} ${status.padEnd(20)} ${String(ms).padStart(5)} ms  ${detail}`);
    }
    const coverage = eligible === 0 ? 0 : active / eligible;
    const funnel = (await (await fetch(`${url}/api/metrics/funnel?namespace=autonomy`, { headers: { authorization: `Bearer ${key.key}` } })).json()) as { coverage: number; active: number; eligible: number };
    console.log(`\nSmoke coverage: ${active} of ${eligible} eligible sample intents ACTIVE = ${(coverage * 100).toFixed(1)}% (target 90%).`);
    console.log(`Namespace "autonomy" overall: ${funnel.active} of ${funnel.eligible} active = ${(funnel.coverage * 100).toFixed(1)}%.`);
    if (coverage >= 0.9) {
      console.log("smoke-90 PASSED");
      return 0;
    }
    console.log("smoke-90 FAILED: see the reasons above (`npm run exec-summary` for the whole funnel).");
    return 1;
  } finally {
    await cli.db.apiKey.update({ where: { id: keyRow.id }, data: { revokedAt: new Date() } });
    await cli.close();
    if (app) {
      app.kill("SIGTERM");
      await new Promise((r) => app.once("exit", r));
    }
  }
});
