/**
 * Bounds on what one tRPC HTTP request may ask for, checked before tRPC parses anything: at most
 * MAX_BATCH procedures per batch, a URL and a body of bounded size. Refusals are the REST error
 * shape (DESIGN.md) with a message in words, so an unauthenticated client cannot turn one small
 * request into a thousand database queries.
 */
import { readCapped } from "../lib/read-capped";
export const MAX_BATCH = 10;
export const MAX_URL_BYTES = 8 * 1024;
export const MAX_BODY_BYTES = 100 * 1024;

function refuse(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status, headers: { "cache-control": "no-store" } });
}

/** The request to hand to tRPC (its body already read within the cap), or the refusal. */
export async function limitTrpcRequest(req: Request, endpoint = "/api/trpc"): Promise<Request | Response> {
  if (Buffer.byteLength(req.url) > MAX_URL_BYTES) {
    return refuse(414, "URI_TOO_LONG", `The request URL is longer than ${MAX_URL_BYTES / 1024} KB; send fewer or smaller queries at a time.`);
  }
  const url = new URL(req.url);
  const paths = url.pathname.startsWith(`${endpoint}/`) ? decodeURIComponent(url.pathname.slice(endpoint.length + 1)).split(",") : [];
  if (paths.length > MAX_BATCH) {
    return refuse(400, "BATCH_TOO_LARGE", `A batch may hold at most ${MAX_BATCH} procedures; this one has ${paths.length}.`);
  }
  if (req.method !== "POST" || !req.body) return req;
  const tooLarge = () => refuse(413, "PAYLOAD_TOO_LARGE", `The request body is larger than ${MAX_BODY_BYTES / 1024} KB.`);
  if (Number(req.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) return tooLarge();
  const bytes = await readCapped(req.body, MAX_BODY_BYTES);
  if (!bytes) return tooLarge();
  return new Request(req.url, { method: req.method, headers: req.headers, body: bytes, signal: req.signal });
}
