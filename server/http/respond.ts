/**
 * HTTP edges for AOD's REST API: one error shape (DESIGN.md: {"error":{code,message,issues}}),
 * bounded body reading (413 past the cap, 400 for malformed JSON), bearer API keys → tenant
 * (401), and a per-key token bucket (429). Web-standard Request/Response only, no next/* here.
 */
import { randomUUID } from "node:crypto";
import { readCapped } from "../lib/read-capped";
import { redact } from "../credentials/redact";
import { logger } from "../lib/logger";
import { isTransientError } from "../onboarding/transient";
import type { z } from "zod";
import { authenticateApiKey } from "../auth/api-key-repository";
import { TokenBucket } from "../connectors/safe-mode/rate-limit";
import type { Db } from "../db/client";
import { lru } from "../lib/lru";
import { issuesOf, type ErrorBody } from "../onboarding/schemas";

export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_BATCH_BODY_BYTES = 8 * 1024 * 1024;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

export function errorResponse(status: number, code: string, message: string, extra: Partial<ErrorBody["error"]> = {}, headers: Record<string, string> = {}): Response {
  return json({ error: { code, message, ...extra } } satisfies ErrorBody, status, headers);
}

export function validationError(error: z.ZodError, message = "The request body is not a valid connection intent."): Response {
  return errorResponse(422, "VALIDATION_FAILED", message, { issues: issuesOf(error) });
}

/** A route's handler for the methods it serves. */
type Handler<A extends unknown[]> = (...args: A) => Promise<Response>;

/**
 * A route handler that answers in the API's error shape whatever goes wrong inside it (an empty
 * 500 from the framework otherwise): a database that is away or overloaded (a transient error:
 * connection refused or lost, too many connections, the pool's timeout) is a 503 with
 * Retry-After, which a client retries; anything else a 500 with a reference that finds the logged
 * error. The error's own text (hosts, SQL, stack) goes to the log only, never into the answer.
 * Retrying either is safe: an intent's admission is idempotent (its natural key), and an intent
 * admitted before the failure is run by the stuck-PENDING reaper (server/jobs/worker.ts).
 */
export function apiHandler<A extends unknown[]>(route: string, handler: Handler<A>): Handler<A> {
  return async (...args: A) => {
    try {
      return await handler(...args);
    } catch (e) {
      const ref = randomUUID().slice(0, 8);
      const transient = isTransientError(e);
      const failure = { name: e instanceof Error ? e.name : typeof e, message: redact((e instanceof Error ? e.message : String(e)).slice(0, 500)) };
      logger().error({ ref, route, transient, failure }, "API request failed");
      if (transient) {
        return errorResponse(503, "SERVICE_UNAVAILABLE", `The service cannot answer right now (its database is unreachable or busy); retry in a few seconds (reference ${ref}).`, {}, { "retry-after": "5" });
      }
      return errorResponse(500, "INTERNAL_ERROR", `Something went wrong on the server (reference ${ref}); retrying the request is safe, or give an operator this reference.`);
    }
  };
}

/**
 * The answer to a method a route does not serve: 405 in the API's error shape with the Allow
 * header (RFC 9110 §15.5.6), where the framework would send an empty body.
 */
export function methodNotAllowed(allow: readonly string[]): () => Promise<Response> {
  const list = [...allow, "OPTIONS"].join(", ");
  return async () => errorResponse(405, "METHOD_NOT_ALLOWED", `This endpoint answers ${allow.join(" and ")} only.`, {}, { allow: list });
}

/** Reads a JSON body without ever holding more than `maxBytes` of it. */
export async function readJsonBody(req: Request, maxBytes: number): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const tooLarge = () => ({ ok: false as const, response: errorResponse(413, "PAYLOAD_TOO_LARGE", `The request body is larger than ${Math.round(maxBytes / 1024)} KB.`) });
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return tooLarge();
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    return { ok: false, response: errorResponse(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.") };
  }
  if (!req.body) return { ok: false, response: errorResponse(400, "MALFORMED_JSON", "The request body is empty.") };
  const bytes = await readCapped(req.body, maxBytes);
  if (!bytes) return tooLarge();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, response: errorResponse(400, "MALFORMED_JSON", "The request body is not valid UTF-8.") };
  }
  try {
    // V8's JSON.parse is iterative: a body nested 100,000 levels deep parses without touching the
    // stack (tests/api/config-admission.test.ts). Depth is then limited by the intent admission
    // (intent-admission.ts) before any recursive code (zod, JSON.stringify, Prisma) sees the value.
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const where = e instanceof SyntaxError ? e.message.replace(/^.*?(at position \d+|line \d+ column \d+).*$/s, "$1") : "";
    return { ok: false, response: errorResponse(400, "MALFORMED_JSON", `The request body is not valid JSON${where && where !== (e as Error).message ? ` (${where})` : ""}.`) };
  }
}

/** API keys with a live rate bucket per process (LRU: the least recently used key's bucket goes first). */
export const MAX_KEY_BUCKETS = 10_000;
const buckets = lru<string, TokenBucket>(MAX_KEY_BUCKETS);

/** How many per-key buckets are held (tests). */
export function keyBucketCount(): number {
  return buckets.size;
}

/** The rate bucket of one API key (process-wide, LRU-capped). */
export function keyBucket(keyId: string, ratePerMinute: number): TokenBucket {
  const key = `${keyId}:${ratePerMinute}`;
  let bucket = buckets.get(key);
  if (!bucket) buckets.set(key, (bucket = new TokenBucket(ratePerMinute, ratePerMinute)));
  return bucket;
}

export type ApiCaller = { tenantId: string; keyId: string };

/** Bearer API key → tenant, with the per-key rate limit. */
export async function authenticateRequest(req: Request, db: Db, ratePerMinute: number): Promise<{ ok: true; caller: ApiCaller } | { ok: false; response: Response }> {
  const header = req.headers.get("authorization") ?? "";
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  let caller: ApiCaller | null;
  try {
    // unknown prefixes and recently seen keys are answered from memory (api-key-repository.ts)
    caller = m ? await authenticateApiKey(db, m[1]!) : null;
  } catch {
    // the database is unreachable: say so in words, never the driver's message (hosts, tables)
    return { ok: false, response: errorResponse(503, "SERVICE_UNAVAILABLE", "The service cannot check API keys right now (its database is unreachable); retry in a few seconds.", {}, { "retry-after": "5" }) };
  }
  if (!caller) {
    return { ok: false, response: errorResponse(401, "UNAUTHENTICATED", "A valid API key is required: send `Authorization: Bearer <key>`.", {}, { "www-authenticate": 'Bearer realm="aam"' }) };
  }
  if (!(await keyBucket(caller.keyId, ratePerMinute).take(0))) {
    const retry = Math.max(1, Math.ceil(60 / ratePerMinute));
    return { ok: false, response: errorResponse(429, "RATE_LIMITED", `This API key is limited to ${ratePerMinute} requests a minute; retry in ${retry} s.`, {}, { "retry-after": String(retry) }) };
  }
  return { ok: true, caller };
}
