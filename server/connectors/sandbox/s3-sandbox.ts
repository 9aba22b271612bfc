/**
 * SANDBOX (fresh machines and tests only): an in-process S3-protocol server (s3rver) with a
 * bucket `aam-sandbox` holding the sample files from seeds/sandbox/files. The objects are
 * written with a plain SDK client here — the Safe Mode client of the s3 driver cannot write.
 */
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

// s3rver ships no type declarations; this is the part of its API the sandbox uses.
type S3rverInstance = { run(): Promise<{ port: number; address: string }>; close(): Promise<void> };
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverCtor;

export const S3_SANDBOX_BUCKET = "aam-sandbox";
const DEFAULT_FILES = path.resolve(import.meta.dirname, "../../../seeds/sandbox/files");

export type S3Sandbox = { endpoint: string; accessKeyId: string; secretAccessKey: string; bucket: string; close(): Promise<void> };

async function filesUnder(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p, base)));
    else if (e.isFile()) out.push(path.relative(base, p).split(path.sep).join("/"));
  }
  return out;
}

const CONTENT_TYPES: Record<string, string> = { ".csv": "text/csv", ".json": "application/json", ".ndjson": "application/x-ndjson" };

/** Starts s3rver on 127.0.0.1 (`port` 0 → any free port) storing into `dir`. */
export async function startS3Sandbox(opts: { dir: string; port?: number; filesDir?: string }): Promise<S3Sandbox> {
  const accessKeyId = "S3RVER";
  const secretAccessKey = "S3RVER";
  const server = new S3rver({ port: opts.port ?? 0, address: "127.0.0.1", directory: opts.dir, silent: true, configureBuckets: [{ name: S3_SANDBOX_BUCKET }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const writer = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  try {
    const filesDir = opts.filesDir ?? DEFAULT_FILES;
    for (const rel of await filesUnder(filesDir)) {
      const body = await fs.readFile(path.join(filesDir, rel));
      await writer.send(new PutObjectCommand({ Bucket: S3_SANDBOX_BUCKET, Key: rel, Body: body, ContentType: CONTENT_TYPES[path.extname(rel)] ?? "application/octet-stream" }));
    }
  } finally {
    writer.destroy();
  }
  return { endpoint, accessKeyId, secretAccessKey, bucket: S3_SANDBOX_BUCKET, close: () => server.close() };
}
