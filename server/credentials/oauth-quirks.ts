/**
 * Vendor OAuth quirks as data (catalog schema.ts oauth2 mode: tokenAuth, tokenResponse, idToken,
 * pkce, postConsent), applied around oauth4webapi:
 *
 *  - clientAuth: client_secret_basic / client_secret_post / private_key_jwt (RFC 7523 assertion
 *    signed with the client's private key, jwt-assertion.ts).
 *  - normalizingFetch: a vendor whose token response is not RFC 6749 §5.1 (Slack: HTTP 200
 *    `ok:false` errors, tokens under `authed_user`) is rewritten into the standard shape before
 *    oauth4webapi reads it; `tokenTypes` are accepted (Slack `bot`/`user`) and the token is then
 *    sent as a bearer token.
 *  - jsonBodyFetch: a vendor whose token endpoint takes the parameters as a JSON object instead of
 *    the RFC 6749 §4.1.3 form body (Zendesk POST /oauth/tokens, catalog `tokenRequestBody: "json"`).
 *  - atlassianCloudIds: the post-consent accessible-resources lookup (site URL → cloudId).
 */
import * as oauth from "oauth4webapi";
import { err, ok, type Result } from "../lib/result";
import { clientAssertion, CLIENT_ASSERTION_TYPE } from "./jwt-assertion";

export type TokenAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt";

export type TokenResponseShape = {
  tokenPath: string[];
  tokenTypes: string[];
  okPath?: string[];
  errorPath?: string[];
  defaultTokenType?: string;
};

type FetchLike = (url: string | URL, init?: { body?: unknown; headers?: Record<string, string> | Headers; method?: string; signal?: AbortSignal | null }) => Promise<Response>;

/**
 * How the client authenticates at the token endpoint. For private_key_jwt the "secret" is the
 * client's RSA private key (PEM or JWK) and `keyId` the kid registered with the vendor.
 */
export function clientAuth(method: TokenAuthMethod, secret: string, opts: { clientId: string; tokenUrl: string; keyId?: string; now?: () => Date }): oauth.ClientAuth {
  if (method === "client_secret_basic") return oauth.ClientSecretBasic(secret);
  if (method === "client_secret_post") return oauth.ClientSecretPost(secret);
  return (_as, client, body) => {
    const assertion = clientAssertion({ clientId: client.client_id, audience: opts.tokenUrl, privateKey: secret, keyId: opts.keyId, now: (opts.now ?? (() => new Date()))() });
    if (!assertion.ok) throw new QuirkError(`private_key_jwt: ${assertion.error}`);
    body.set("client_id", client.client_id);
    body.set("client_assertion_type", CLIENT_ASSERTION_TYPE);
    body.set("client_assertion", assertion.value);
  };
}

export type TokenRequestBody = "form" | "json";

/**
 * Re-encodes oauth4webapi's form-encoded token request as a JSON object with the same parameters
 * (grant_type, code, redirect_uri, code_verifier, refresh_token, client_id, client_secret …) and
 * `Content-Type: application/json`. Client authentication in a header (Basic) is left as it is.
 * Form bodies (every vendor but those whose entry says `json`) pass unchanged.
 */
export function jsonBodyFetch(inner: FetchLike, body: TokenRequestBody | undefined): FetchLike {
  if (body !== "json") return inner;
  return (url, init) => {
    if (!init || init.body === undefined || init.body === null) return inner(url, init);
    const params = init.body instanceof URLSearchParams ? init.body : new URLSearchParams(String(init.body));
    const headers = new Headers(init.headers as HeadersInit | undefined);
    headers.set("content-type", "application/json");
    return inner(url, { ...init, headers, body: JSON.stringify(Object.fromEntries(params)) });
  };
}

/** A local failure in words (no secret in it). */
export class QuirkError extends Error {
  override name = "QuirkError";
}

/** oauth4webapi's recognizedTokenTypes for a vendor's extra token_type values. */
export function recognizedTokenTypes(shape: TokenResponseShape | undefined): oauth.RecognizedTokenTypes | undefined {
  if (!shape?.tokenTypes.length) return undefined;
  return Object.fromEntries(shape.tokenTypes.map((t) => [t.toLowerCase(), () => {}]));
}

function getPath(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

const STANDARD = ["access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"] as const;

/**
 * Rewrites a vendor's token response into RFC 6749 §5.1/§5.2 form: an `ok:false` answer becomes a
 * 400 `{ error }`; tokens found under `tokenPath` are lifted to the top level (other top-level
 * fields such as Slack's team and enterprise are kept). Standard responses pass unchanged.
 */
export function normalizingFetch(inner: FetchLike, shape: TokenResponseShape | undefined): FetchLike {
  if (!shape || (shape.tokenPath.length === 0 && !shape.okPath && !shape.defaultTokenType)) return inner;
  return async (url, init) => {
    const res = await inner(url, init);
    if (!(res.headers.get("content-type") ?? "").includes("json")) return res;
    let body: unknown;
    try {
      body = await res.clone().json();
    } catch {
      return res;
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) return res;
    const headers = new Headers(res.headers);
    headers.delete("content-length");
    const json = (status: number, v: unknown) => new Response(JSON.stringify(v), { status, headers });
    if (shape.okPath && getPath(body, shape.okPath) === false) {
      const code = shape.errorPath ? getPath(body, shape.errorPath) : undefined;
      return json(400, { error: typeof code === "string" && code ? code : "invalid_request" });
    }
    if (res.status !== 200) return res;
    if (shape.tokenPath.length === 0) {
      const b = body as Record<string, unknown>;
      return shape.defaultTokenType && b.access_token !== undefined && b.token_type === undefined ? json(200, { ...b, token_type: shape.defaultTokenType }) : res;
    }
    const inner2 = getPath(body, shape.tokenPath);
    if (!inner2 || typeof inner2 !== "object") return res;
    const lifted: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    for (const k of STANDARD) delete lifted[k];
    for (const k of STANDARD) if ((inner2 as Record<string, unknown>)[k] !== undefined) lifted[k] = (inner2 as Record<string, unknown>)[k];
    if (lifted.token_type === undefined && shape.defaultTokenType) lifted.token_type = shape.defaultTokenType;
    return json(200, lifted);
  };
}

// ------------------------------------------------------------------ Atlassian cloudId

export type AtlassianPostConsent = { type: "atlassian_accessible_resources"; url: string; apiGateway: string; siteField: string };

const CLOUD_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * GET accessible-resources with the new token: the sites this grant may reach, as
 * `{ "<site host>": "<cloudId>" }`. Only well-formed ids are kept (they are placed in URLs).
 * ref: https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/ ("Retrieving Cloud ID")
 */
export async function atlassianCloudIds(fetchImpl: FetchLike, url: string, accessToken: string, signal: AbortSignal): Promise<Result<Record<string, string>, string>> {
  let res: Response;
  try {
    res = await fetchImpl(url, { method: "GET", headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" }, signal });
  } catch (e) {
    return err(e instanceof Error && e.name === "EgressRefusedError" ? e.message : "the accessible-resources lookup could not be reached");
  }
  if (res.status !== 200) return err(`the accessible-resources lookup answered HTTP ${res.status}`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return err("the accessible-resources lookup did not answer JSON");
  }
  if (!Array.isArray(body)) return err("the accessible-resources lookup did not answer a list of sites");
  const out: Record<string, string> = {};
  for (const r of body) {
    const id = (r as { id?: unknown }).id;
    const site = (r as { url?: unknown }).url;
    if (typeof id !== "string" || !CLOUD_ID.test(id) || typeof site !== "string") continue;
    try {
      out[new URL(site).host.toLowerCase()] = id;
    } catch {
      /* not a URL: skipped */
    }
  }
  if (Object.keys(out).length === 0) return err("the grant reaches no Atlassian site (accessible-resources is empty)");
  return ok(out);
}

/** The API base for one connection's site: `apiGateway` with its cloudId, or why there is none. */
export function atlassianGateway(post: AtlassianPostConsent, cloudIdsJson: string | undefined, config: Record<string, unknown>): Result<string, string> {
  const site = config[post.siteField];
  if (typeof site !== "string" || !site) return err(`the connection names no ${post.siteField}`);
  let ids: Record<string, string>;
  try {
    ids = JSON.parse(cloudIdsJson ?? "{}") as Record<string, string>;
  } catch {
    ids = {};
  }
  const host = site.toLowerCase().replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  const id = ids[host];
  if (!id || !CLOUD_ID.test(id)) return err(`the consent does not cover the site ${host} (it covers ${Object.keys(ids).join(", ") || "no site"})`);
  return ok(post.apiGateway.replace("{cloudId}", id));
}
