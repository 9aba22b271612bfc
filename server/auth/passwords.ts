/**
 * Password hashes. New hashes are scrypt (node:crypto, run on libuv's thread pool, so signing in
 * never blocks the event loop that runs onboarding): `scrypt$<N>$<r>$<p>$<salt>$<hash>`.
 * Older bcrypt hashes (`$2a$`/`$2b$`, from bcryptjs) still verify, off the main thread too, and
 * are upgraded to scrypt at the next successful sign-in.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { Worker } from "node:worker_threads";

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEYLEN, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** A scrypt hash of a random value: unknown emails cost the same time as wrong passwords. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString("hex"));
  return dummy;
}

export function needsRehash(stored: string): boolean {
  return !stored.startsWith(`scrypt$${N}$${R}$${P}$`);
}

export async function verifyPasswordHash(password: string, stored: string): Promise<boolean> {
  if (stored.startsWith("scrypt$")) {
    const [, n, r, p, salt, hash] = stored.split("$");
    const expected = Buffer.from(hash ?? "", "base64url");
    if (!n || !r || !p || !salt || expected.length < 16) return false;
    const key = await scryptAsync(password, Buffer.from(salt, "base64url"), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 });
    return timingSafeEqual(key, expected);
  }
  if (/^\$2[aby]\$\d\d\$/.test(stored)) return bcryptInWorker(password, stored);
  return false;
}

// bcryptjs is pure JavaScript: run it in a worker thread, never on the event loop.
const BCRYPT_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const bcrypt = require(workerData.bcrypt);
parentPort.on("message", ({ id, password, hash }) => {
  bcrypt.compare(password, hash).then((ok) => parentPort.postMessage({ id, ok }), () => parentPort.postMessage({ id, ok: false }));
});`;
let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, (ok: boolean) => void>();

function bcryptPath(): string {
  // resolved from the app's folder: this module may run from Next's bundle
  return createRequire(path.join(process.cwd(), "package.json")).resolve("bcryptjs");
}

function bcryptInWorker(password: string, hash: string): Promise<boolean> {
  if (!worker) {
    const w = new Worker(BCRYPT_WORKER, { eval: true, workerData: { bcrypt: bcryptPath() } });
    w.unref();
    w.on("message", ({ id, ok }: { id: number; ok: boolean }) => {
      pending.get(id)?.(ok);
      pending.delete(id);
    });
    w.on("error", () => {
      for (const done of pending.values()) done(false);
      pending.clear();
      worker = undefined;
    });
    worker = w;
  }
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    worker!.postMessage({ id, password, hash });
  });
}
