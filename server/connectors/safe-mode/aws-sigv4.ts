/**
 * AWS Signature Version 4 for the declarative REST driver (aws_org and other JSON-protocol AWS
 * APIs), with @smithy/signature-v4 — the signer the AWS SDK itself uses — over node:crypto.
 * Signing happens after Safe Mode has built the request; it adds headers, never changes it.
 */
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";

/** The hash interface the signer expects (what @smithy/hash-node provides), on node:crypto. */
class NodeSha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash("sha256") : createHmac("sha256", typeof secret === "string" ? secret : Buffer.from(secret as ArrayBuffer));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(typeof data === "string" ? data : Buffer.from(data as ArrayBuffer));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

export type AwsCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
export type SignableRequest = { method: string; url: string; headers: Record<string, string>; body?: string };

/** Returns the request's headers plus Authorization, X-Amz-Date (and X-Amz-Security-Token). */
export async function signAwsRequest(req: SignableRequest, creds: AwsCredentials, region: string, service: string, signingDate?: Date): Promise<Record<string, string>> {
  const url = new URL(req.url);
  const signer = new SignatureV4({ credentials: creds, region, service, sha256: NodeSha256, applyChecksum: false, uriEscapePath: true });
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...req.headers, host: url.host },
      body: req.body,
    },
    signingDate ? { signingDate } : undefined,
  );
  const { host: _host, ...headers } = signed.headers as Record<string, string>;
  return headers;
}

/** The region of an AWS endpoint host (`organizations.us-east-1.amazonaws.com` → us-east-1). */
export function regionOf(host: string, fallback = "us-east-1"): string {
  const m = /\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com$/.exec(host);
  return m?.[1] ?? fallback;
}
