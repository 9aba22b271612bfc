/**
 * The benchmark's sources, in a process of their own (a real source is another machine; its CPU
 * should not be billed to the pipeline): the HTTP SANDBOX (`slow` mode = 50 ms per request) and
 * the S3-protocol server (s3rver, the sandbox bucket with seeds/sandbox/files).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startHttpSandbox, type SandboxMode, type SandboxVendor } from "../server/connectors/sandbox/http-sandbox";
import { startS3Sandbox } from "../server/connectors/sandbox/s3-sandbox";

const sandbox = await startHttpSandbox({ port: 0, slowMs: 50 });
const s3dir = fs.mkdtempSync(path.join(os.tmpdir(), "aam-bench-s3-"));
const s3 = await startS3Sandbox({ dir: s3dir, port: 0 });
process.send?.({
  type: "ready",
  github: sandbox.urlFor("github"),
  token: sandbox.token,
  s3: { endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
});
process.on("message", (m: { type: string; vendor: SandboxVendor; mode: SandboxMode }) => {
  if (m.type === "mode") {
    sandbox.setMode(m.vendor, m.mode);
    process.send?.({ type: "mode-set" });
  }
});
process.on("disconnect", () =>
  void Promise.allSettled([sandbox.close(), s3.close()]).then(() => {
    fs.rmSync(s3dir, { recursive: true, force: true });
    process.exit(0);
  }),
);
