/**
 * Checks run before `npm start` / `npm test` do anything, and the one-sentence messages for what
 * can go wrong at start (a port taken, a folder not writable, a database that refuses).
 */
import fs from "node:fs";
import net from "node:net";

/** A start failure whose message is one sentence with the fix. */
export class StartError extends Error {}

/** Node 22, 24 and 26 are the LTS lines we test; 20 still runs (CI uses it) but is end of life. */
export const TESTED_NODE_MAJORS = [22, 24, 26];

export function nodeVersionWarning(version: string): string | undefined {
  const major = Number(version.split(".")[0]);
  if (major >= 22) return undefined;
  return `WARNING: Node.js ${version} is end of life (Node 20 since April 2026); it still works for now, but use Node 22, 24 or 26 LTS.`;
}

/** The message of any error, as one line (never a stack trace). */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .join("; ");
}

/** DATA_DIR must be a folder we can create and write. */
export function checkDataDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    const probe = `${dir}/.write-test-${process.pid}`;
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new StartError(`The data folder ${dir} cannot be created or written (${code}); set DATA_DIR to a folder you can write, or fix its permissions.`);
  }
}

export function portInUse(port: number, host = "0.0.0.0"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "EADDRINUSE" || e.code === "EACCES"));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(false)));
  });
}

/** Every port we are about to listen on must be free; names the variable that moves it. */
export async function checkPortsFree(ports: { port: number; host?: string; name: string }[]): Promise<void> {
  for (const p of ports) {
    if (p.port === 0) continue; // 0 = any free port
    if (await portInUse(p.port, p.host))
      throw new StartError(`Port ${p.port} (${p.name}) is already in use by another program; stop that program or set ${p.name} to a free port (e.g. ${p.name}=${p.port + 1} npm start).`);
  }
}

/** One sentence for a database that refuses us at start. */
export function describeDbError(err: unknown, url: string, embedded: boolean): string {
  const e = err as { code?: string; message?: string };
  let where = "the database";
  try {
    const u = new URL(url);
    where = `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    /* keep the generic name */
  }
  const fix = embedded ? "start again, and if it persists move DATA_DIR aside to start fresh, or set DATABASE_URL" : "check DATABASE_URL (host, port, user, password, database) and that the server is running";
  const detail = oneLine(e?.message ?? err).replace(/:\/\/[^@\s]*@/g, "://***@");
  if (e?.code === "ECONNREFUSED") return `${where} refused the connection (nothing listens there); ${fix}.`;
  if (e?.code === "ENOTFOUND" || e?.code === "EAI_AGAIN") return `The host of ${where} was not found; ${fix}.`;
  if (e?.code === "28P01" || e?.code === "28000") return `${where} refused the login (${detail}); ${fix}.`;
  if (e?.code === "3D000") return `${where} has no such database (${detail}); create it or ${fix}.`;
  return `Could not prepare ${where} (${detail}); ${fix}.`;
}
