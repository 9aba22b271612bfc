/**
 * Starts scripts/pg-server.ts as a child process and waits for its URL.
 * The child owns PostgreSQL; this side only sees a URL and a stop() function.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";

export type EmbeddedPg = { url: string; stop: () => Promise<void>; child: ChildProcess };

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedPg> {
  const script = path.resolve(import.meta.dirname, "..", "pg-server.ts");
  const child = fork(script, [opts.dataDir, String(opts.port), opts.database ?? "aam"], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("The embedded PostgreSQL did not become ready within 120 s.")), 120_000);
    child.on("message", (m: { type: string; url?: string; message?: string }) => {
      if (m.type === "log") opts.log?.(m.message ?? "");
      if (m.type === "ready") {
        clearTimeout(timer);
        resolve(m.url!);
      }
      if (m.type === "error") {
        clearTimeout(timer);
        reject(new Error(m.message));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The embedded PostgreSQL process exited (code ${code}) before it was ready.`));
    });
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { url, stop, child };
}
