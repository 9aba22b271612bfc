/**
 * Where OAuth requests that carry secrets may go (DESIGN.md "The trust boundary"): authorization
 * and token URLs come only from the catalog entry or from operator settings (OAUTH_<P>_*,
 * SP_<NAME>_TOKEN_URL), never from a connection's config. A catalog template may be filled with
 * config values only where they cannot move the request to another party:
 *  - in the path/query: one segment of [A-Za-z0-9._~-] (Microsoft `{{config.tenant_id}}`);
 *  - in the host: one DNS label under a fixed vendor suffix of at least two labels
 *    (`{{config.subdomain}}.zendesk.com`), or any value when the filled host is one of the entry's
 *    own fixed host patterns (Datadog `api.{{config.site}}` → api.datadoghq.eu, Okta
 *    `{{config.domain}}` → acme.okta.com).
 * Otherwise the URL is refused with words: the source's OAuth app must be configured by an
 * operator. Every token request then goes through `pinnedTokenFetch`: the egress guard vets the
 * host and the connection is made to the vetted address (no second DNS lookup), with TLS checked
 * against the host name.
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { getCatalogEntry } from "../connectors/catalog";
import { interpolate } from "../connectors/catalog/interpolate";
import { checkEgress } from "../connectors/safe-mode/egress";
import { err, ok, type Result } from "../lib/result";

export type AuthServerOrigin = "catalog" | "operator";

const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
export const isLiteralLoopback = (hostname: string) => LOOPBACK_NAMES.has(hostname.toLowerCase());

const PATH_VALUE = /^[A-Za-z0-9._~-]{1,253}$/;
const LABEL_VALUE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const HOST_VALUE = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i;
const VAR = /\{\{\s*config\.([A-Za-z0-9_]+)\s*\}\}/g;

export function operatorMustConfigure(label: string, hint: string): string {
  return `The ${label} of this source cannot be taken from the connection's configuration: this source's OAuth app must be configured by an operator/admin (${hint})`;
}

/** `*.x.y` matches subdomains of x.y; other patterns match exactly. */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/:\d+$/, "");
  const h = host.toLowerCase();
  if (p.startsWith("*.")) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return p === h;
}

/**
 * Fills a catalog or operator URL template for one connection. `hint` names the operator setting
 * that would replace it (for the refusal). The URL must be https (plain http only to this machine).
 */
export function fillAuthServerUrl(opts: { label: string; template: string; sourceType: string; config: Record<string, unknown>; hint: string }): Result<URL, string> {
  const { label, template, config } = opts;
  const m = /^(https?:\/\/)([^/?#]*)(.*)$/i.exec(template.trim());
  if (!m) return err(`The ${label} is not a valid URL`);
  const [, scheme, hostTpl, restTpl] = m as unknown as [string, string, string, string];
  const refuse = () => err(operatorMustConfigure(label, opts.hint));
  let host: string;
  try {
    if (!hostTpl.includes("{{")) host = hostTpl;
    else {
      const labels = hostTpl.split(".");
      const fixedTail = [...labels].reverse().findIndex((l) => l.includes("{{"));
      const asLabels = labels.every((l) => !l.includes("{{") || /^\{\{\s*config\.[A-Za-z0-9_]+\s*\}\}$/.test(l)) && fixedTail >= 2;
      let labelOk = asLabels;
      const filled = interpolate(hostTpl, { config }, (v) => {
        if (!HOST_VALUE.test(v) || v.includes("..")) throw new Error("unsafe");
        if (!LABEL_VALUE.test(v)) labelOk = false;
        return v.toLowerCase();
      });
      const entry = getCatalogEntry(opts.sourceType);
      // fixed hosts the catalog names: allowedHosts, and host values an enum field implies (Datadog's web app hosts)
      const impliedHosts = (entry?.configFields ?? []).flatMap((f) => Object.values(f.implies ?? {}).flatMap((v) => Object.values(v)));
      const fixedPatterns = [...(entry?.allowedHosts ?? []), ...impliedHosts].filter((p) => !p.includes("{{"));
      if (!labelOk && !fixedPatterns.some((p) => hostMatches(p, filled))) return refuse();
      host = filled;
    }
  } catch {
    return refuse();
  }
  let rest: string;
  try {
    rest = interpolate(restTpl, { config }, (v) => {
      if (!PATH_VALUE.test(v) || v === "." || v === "..") throw new Error("unsafe");
      return encodeURIComponent(v);
    });
  } catch {
    return err(`The ${label} needs a configuration value that is missing or not a plain name (letters, digits, . _ ~ -)`);
  }
  let url: URL;
  try {
    url = new URL(`${scheme}${host}${rest}`);
  } catch {
    return err(`The ${label} is not a valid URL`);
  }
  // no userinfo, and the parser must agree on the host we checked
  if (url.username || url.password || url.hostname.toLowerCase() !== host.toLowerCase().replace(/:\d+$/, "")) return refuse();
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLiteralLoopback(url.hostname))) return err(`The ${label} must use https`);
  return ok(url);
}

/** Which config keys a template reads (for docs and tests). */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(VAR)].map((x) => x[1]!);
}

// ------------------------------------------------------------------ pinned transport

export type PinnedFetchOptions = {
  /** operator-configured endpoints may be private (an on-prem IdP); catalog vendor hosts are public only */
  origin: AuthServerOrigin;
  /** largest response body read, bytes (default 1 MiB) */
  maxBytes?: number;
};

export class EgressRefusedError extends TypeError {
  override name = "EgressRefusedError";
}

type FetchArgs = { body?: unknown; headers?: Record<string, string> | Headers; method?: string; signal?: AbortSignal | null };

/**
 * A fetch for oauth4webapi's `customFetch`: vets the host with the egress guard (link-local and
 * metadata never; private ranges only for operator-configured endpoints or a literal loopback
 * host), then connects to that vetted address only (a `lookup` that answers it), with TLS
 * verified for the host name. Never follows redirects.
 */
export function pinnedTokenFetch(opts: PinnedFetchOptions): (url: string | URL, init?: FetchArgs) => Promise<Response> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  return async (input, init = {}) => {
    const url = new URL(String(input));
    const hostname = url.hostname.replace(/^\[|\]$/g, "");
    const allowPrivate = opts.origin === "operator" || isLiteralLoopback(url.hostname);
    const vetted = await checkEgress(hostname, { allowPrivateNetworks: allowPrivate });
    if (!vetted.ok) throw new EgressRefusedError(`token endpoint refused by the egress guard: ${vetted.error.message}`);
    const address = vetted.value.address;
    const family = ipaddr.parse(address).kind() === "ipv6" ? 6 : 4;
    const lookup: LookupFunction = (_host, options, cb) => {
      if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
      else cb(null, address, family);
    };
    const headers: Record<string, string> = {};
    new Headers(init.headers as HeadersInit | undefined).forEach((v, k) => (headers[k] = v));
    const body = init.body === undefined || init.body === null ? undefined : typeof init.body === "string" ? init.body : String(init.body);
    if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
    const lib = url.protocol === "https:" ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = lib.request(
        {
          protocol: url.protocol,
          hostname,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          method: init.method ?? "GET",
          headers,
          lookup,
          servername: url.protocol === "https:" && !ipaddr.isValid(hostname) ? hostname : undefined,
          signal: init.signal ?? undefined,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) {
              res.destroy();
              reject(new TypeError("token endpoint response is too large"));
              return;
            }
            chunks.push(c);
          });
          res.on("end", () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (Array.isArray(v)) for (const x of v) h.append(k, x);
              else if (v !== undefined) h.set(k, v);
            }
            const status = res.statusCode ?? 502;
            const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
            resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: h }));
          });
          res.on("error", reject);
        },
      );
      req.on("error", (e: NodeJS.ErrnoException) => {
        if (e.name === "AbortError") reject(init.signal?.reason ?? e);
        else reject(Object.assign(new TypeError("fetch failed"), { cause: e }));
      });
      req.end(body);
    });
  };
}
