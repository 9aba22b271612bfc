/**
 * SANDBOX — not a vendor. A description-driven stand-in: a local node:http server that answers a
 * catalog entry's requests from nothing but its vendor's committed contract
 * (catalog/contracts/<source_type>.json, derived from the vendor's published API description).
 *
 *  - A request is matched to an operation of the description (method, path template, X-Amz-Target)
 *    and checked like the contract test checks it (declared/required query parameters, JSON body).
 *    One the description does not have is refused: 404 (no such operation) or 400 (the problems).
 *  - The answer is synthesized from the operation's 2xx response schema (contracts/synthesize.ts):
 *    a minimal valid instance that carries what the entry reads — its records (2 per page), the
 *    fields its health/lookup `expect` names, and its paginator's "more" signal once, where the
 *    schema has room for it: the first page of a stream hands out a next cursor/token/link, the
 *    page asked for with it is the last.
 *  - Every answer is validated against that schema before it is sent (contracts checkResponse);
 *    one that does not validate is not sent: a 502 names the problems and `violations` records
 *    them. So the stand-in cannot say what the vendor does not.
 *
 * The entry is used to know *where* it reads (records path, paginator, expected fields), never what
 * the vendor sends: every value comes from the description's schema, and the schema decides.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { effectiveConfig, interpolate } from "../catalog/interpolate";
import type { CatalogEntry, CatalogStream } from "../catalog/schema";
import {
  type Contract,
  type ContractOperation,
  type JsonSchema,
  type WireRequest,
  checkRequest,
  checkResponse,
  loadContract,
  matchScore,
  schemaHasPath,
} from "../catalog/contracts";
import { PATH_QUIRKS } from "../catalog/contracts/known-gaps";
import { type Include, synthesize } from "../catalog/contracts/synthesize";

export type StandinExchange = {
  method: string;
  /** from the host root, as received */
  path: string;
  query: [string, string][];
  op?: string;
  status: number;
  /** what of the entry the request was: "health", "lookup", "<stream> page 1", "<stream> next page" */
  roles: string[];
  /** request problems the caller tolerated (known gaps) */
  tolerated: string[];
};

export type SpecStandin = {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** the value for the entry's `config.base_url`: the origin and the entry's own base path */
  baseUrl: string;
  readonly exchanges: readonly StandinExchange[];
  /** requests refused (off the description) and answers refused (outside the response schema) */
  readonly violations: readonly string[];
  /** where the stand-in could not offer what the entry reads, because the schema has no room for it */
  readonly notes: readonly string[];
  /** first and continuation pages served per stream */
  pages(stream: string): { first: number; next: number };
  close(): Promise<void>;
};

export type SpecStandinOptions = {
  entry: CatalogEntry;
  /** the connection config the driver runs with (base_url aside): fills the entry's path templates */
  config?: Record<string, unknown>;
  /** default: the committed contract of entry.sourceType */
  contract?: Contract;
  /** request problems to let through (a known gap between entry and description) */
  tolerate?: (problem: string) => boolean;
  /** changes an answer after it is synthesized, before the schema check (the negative tests) */
  tamper?: (answer: { op: ContractOperation; roles: string[]; body: unknown }) => unknown;
  /** records per page (default 2) */
  records?: number;
  port?: number;
};

type Role = {
  kind: "health" | "lookup" | "stream";
  method: string;
  template: string;
  target?: string;
  include: Include[];
  equals: { path: string[]; value: string | number | boolean }[];
  stream?: CatalogStream;
  /** Dropbox's `…/continue`: every request to it is a next page */
  continuation?: boolean;
};

const MARKER_PARAMS = ["cursor", "after", "page", "pageToken", "page_token", "next_page_token", "$skiptoken", "skiptoken", "startAt", "offset"];

function headerOf(h: Record<string, string> | undefined, name: string): string | undefined {
  return Object.entries(h ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

function getPath(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (!cur || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** The body with `value` at `path` (undefined: removed), intermediate objects created. */
function setPath(body: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const root = (body && typeof body === "object" ? structuredClone(body) : {}) as Record<string, unknown>;
  let cur = root;
  for (const k of path.slice(0, -1)) {
    if (!cur[k] || typeof cur[k] !== "object") cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return root;
}

function rolesOf(entry: CatalogEntry, config: Record<string, unknown>): Role[] {
  const vars = { config: effectiveConfig(entry, config) };
  const tpl = (p: string) => interpolate(p.replace(/\{\{\s*resource\.id\s*\}\}/g, "{id}"), vars, encodeURIComponent);
  const out: Role[] = [];
  const h = entry.health;
  if (h) {
    out.push({
      kind: "health",
      method: h.method,
      template: tpl(h.path),
      target: headerOf(h.headers, "x-amz-target"),
      include: (h.expect ?? []).map((x) => ({ path: x.path, type: x.type })),
      equals: (h.expect ?? []).flatMap((x) => (x.equals === undefined ? [] : [{ path: [...x.path], value: x.equals }])),
    });
  }
  const l = entry.namedResources?.lookup;
  if (l) {
    out.push({
      kind: "lookup",
      method: l.method,
      template: tpl(l.path),
      target: headerOf(l.headers, "x-amz-target"),
      include: (l.expect ?? []).map((x) => ({ path: x.path, type: x.type })),
      equals: (l.expect ?? []).flatMap((x) => (x.equals === undefined ? [] : [{ path: [...x.path], value: x.equals }])),
    });
  }
  for (const s of entry.streams) {
    const include: Include[] = [{ path: s.recordSelector, type: "array" }, ...(s.columnsPath ? [{ path: s.columnsPath, type: "array" as const }] : [])];
    const role: Role = { kind: "stream", method: s.method, template: tpl(s.path), target: headerOf(s.headers, "x-amz-target"), include, equals: [], stream: s };
    out.push(role);
    if (s.pagination.type === "cursor" && s.pagination.continuePath) out.push({ ...role, template: tpl(s.pagination.continuePath), continuation: true });
  }
  return out;
}

function successOf(op: ContractOperation): { status: number; schema: JsonSchema | null } | undefined {
  const key = Object.keys(op.responses).find((k) => k === "200") ?? Object.keys(op.responses).find((k) => /^2(\d\d|XX)$/.test(k));
  if (!key) return undefined;
  return { status: key === "2XX" ? 200 : Number(key), schema: op.responses[key] ?? null };
}

export async function startSpecStandin(opts: SpecStandinOptions): Promise<SpecStandin> {
  const { entry } = opts;
  const c = opts.contract ?? loadContract(entry.sourceType);
  const config = opts.config ?? {};
  const roles = rolesOf(entry, config);
  const records = opts.records ?? 2;
  const basePath = new URL(interpolate(entry.baseUrl ?? "http://x/", { config: effectiveConfig(entry, config) })).pathname.replace(/\/+$/, "");
  const quirk = PATH_QUIRKS[entry.sourceType] ?? ((p: string) => p);
  const exchanges: StandinExchange[] = [];
  const violations: string[] = [];
  const notes = new Set<string>();
  const issuedTokens = new Set<string>();
  const issuedLinks = new Set<string>();
  const pageCount = new Map<string, { first: number; next: number }>();
  let origin = "";

  function answer(req: http.IncomingMessage, text: string): { status: number; body: unknown; headers: Record<string, string>; exchange: StandinExchange } {
    const url = new URL(req.url ?? "/", origin);
    const method = (req.method ?? "GET").toUpperCase();
    const headers = Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === "string" ? [[k, v]] : Array.isArray(v) ? [[k, v.join(", ")]] : [])));
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const query = [...url.searchParams.entries()];
    const exchange: StandinExchange = { method, path: url.pathname, query, status: 0, roles: [], tolerated: [] };
    const refuse = (status: number, problems: string[]) => {
      violations.push(...problems.map((p) => `${method} ${url.pathname}${url.search}: ${p}`));
      return { status, body: { standin: "refused", problems }, headers: {}, exchange };
    };
    const viaLink = issuedLinks.has(url.pathname + url.search);
    const wire: WireRequest = { method, path: quirk(url.pathname), query, headers, ...(body !== undefined ? { body } : {}) };
    const checked = checkRequest(c, wire, { vendorQuery: viaLink });
    const op = checked.op;
    if (!op) return refuse(404, checked.problems);
    exchange.op = op.id;
    exchange.tolerated = checked.problems.filter((p) => opts.tolerate?.(p));
    const untolerated = checked.problems.filter((p) => !opts.tolerate?.(p));
    if (untolerated.length) return refuse(400, untolerated);
    const success = successOf(op);
    if (!success) return refuse(501, [`${op.id} describes no success response`]);
    if (!success.schema) return refuse(501, [`${op.id}: the description gives no JSON schema for ${success.status}, so the stand-in has nothing it may say`]);
    const schema = success.schema;

    // what of the entry this request is
    const rel = url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) || "/" : url.pathname;
    const target = headerOf(headers, "x-amz-target");
    const mine = roles.filter((r) => r.method === method && (r.target ?? undefined) === target && matchScore(r.template, rel) !== undefined);
    const include = mine.flatMap((r) => r.include);
    const streamRole = mine.find((r) => r.kind === "stream");
    const s = streamRole?.stream;
    const p = s?.pagination;
    const has = (path: readonly string[], type: string, what: string) => {
      if (schemaHasPath(c, schema, path, type) !== "missing") return true;
      notes.add(`${s?.name}: ${what} ${JSON.stringify(path)} (${type}) is not in ${op.id}'s response schema: the stand-in cannot offer a next page`);
      return false;
    };
    if (p?.type === "cursor") include.push({ path: p.cursorPath, type: "string" }, ...(p.hasMorePath ? [{ path: p.hasMorePath, type: "boolean" as const }] : []));
    if (p?.type === "page_token") include.push({ path: p.tokenPath, type: "string" });
    if (p?.type === "offset") {
      if (p.hasMorePath) include.push({ path: p.hasMorePath, type: "boolean" });
      if (p.isLastPath) include.push({ path: p.isLastPath, type: "boolean" });
      if (p.totalPath) include.push({ path: p.totalPath, type: "integer" });
    }

    let next = false;
    if (s && p) {
      const q = (name: string) => url.searchParams.get(name);
      const bodyField = (name: string) => (body && typeof body === "object" ? (body as Record<string, unknown>)[name] : undefined);
      switch (p.type) {
        case "cursor": {
          const sent = p.in === "body" ? bodyField(p.cursorParam) : q(p.cursorParam);
          next = !!streamRole!.continuation || (typeof sent === "string" && issuedTokens.has(sent));
          break;
        }
        case "page_token":
          next = issuedTokens.has(q(p.tokenParam) ?? "\u0000");
          break;
        case "link_header":
        case "next_url":
          next = viaLink;
          break;
        case "offset":
          next = (q(p.offsetParam) ?? String(p.start)) !== String(p.start);
          break;
        case "page_number":
          next = (q(p.pageParam) ?? String(p.start)) !== String(p.start);
          break;
        case "none":
          break;
      }
      const n = pageCount.get(s.name) ?? { first: 0, next: 0 };
      if (next) n.next++;
      else n.first++;
      pageCount.set(s.name, n);
    }
    exchange.roles = mine.map((r) => (r.kind === "stream" ? `${r.stream!.name} ${next ? "next page" : "page 1"}` : r.kind));

    let out = synthesize(c, schema, { include, records });
    for (const r of mine) for (const e of r.equals) out = setPath(out, e.path, e.value);
    const outHeaders: Record<string, string> = {};
    // the paginator's signal: once on a first page, never on the page asked for with it
    const valid = (b: unknown) => checkResponse(c, op, success.status, b).length === 0;
    const firstValid = (cands: unknown[]) => cands.find(valid) ?? cands[0];
    const link = () => {
      const u = new URL(url);
      const declared = op.params.filter((x) => x.in === "query").map((x) => x.name);
      const marker = MARKER_PARAMS.find((m) => declared.includes(m)) ?? "$skiptoken";
      u.searchParams.set(marker, marker === "page" ? "2" : "standin-2");
      issuedLinks.add(u.pathname + u.search);
      return u.toString();
    };
    const token = (path: readonly string[]) => {
      const got = getPath(out, path);
      const t = typeof got === "string" && got !== "" ? got : "standin-next";
      issuedTokens.add(t);
      return t;
    };
    if (s && p) {
      const recs = getPath(out, s.recordSelector);
      const count = Array.isArray(recs) ? recs.length : 0;
      switch (p.type) {
        case "cursor":
          if (!next && has(p.cursorPath, "string", "cursorPath")) {
            out = setPath(out, p.cursorPath, token(p.cursorPath));
            if (p.hasMorePath && has(p.hasMorePath, "boolean", "hasMorePath")) out = setPath(out, p.hasMorePath, true);
          } else {
            const ended = p.hasMorePath ? setPath(out, p.hasMorePath, false) : out;
            out = firstValid([setPath(ended, p.cursorPath, undefined), setPath(ended, p.cursorPath, ""), setPath(ended, p.cursorPath, null)]);
          }
          break;
        case "page_token":
          if (!next && has(p.tokenPath, "string", "tokenPath")) out = setPath(out, p.tokenPath, token(p.tokenPath));
          else out = firstValid([setPath(out, p.tokenPath, undefined), setPath(out, p.tokenPath, ""), setPath(out, p.tokenPath, null)]);
          break;
        case "next_url":
          if (!next && has(p.nextPath, "string", "nextPath")) out = setPath(out, p.nextPath, link());
          else out = firstValid([setPath(out, p.nextPath, undefined), setPath(out, p.nextPath, null), setPath(out, p.nextPath, "")]);
          break;
        case "link_header":
          if (!next) outHeaders.link = `<${link()}>; rel="next"`;
          break;
        case "offset": {
          const signals = [p.hasMorePath, p.isLastPath, p.totalPath].filter(Boolean);
          if (signals.length === 0) {
            if (next) out = setPath(out, s.recordSelector, []);
            break;
          }
          const offset = Number(url.searchParams.get(p.offsetParam) ?? p.start);
          if (p.hasMorePath && has(p.hasMorePath, "boolean", "hasMorePath")) out = setPath(out, p.hasMorePath, !next);
          if (p.isLastPath && has(p.isLastPath, "boolean", "isLastPath")) out = setPath(out, p.isLastPath, next);
          if (p.totalPath && has(p.totalPath, "integer", "totalPath")) out = setPath(out, p.totalPath, next ? offset + count : offset + 2 * count);
          break;
        }
        case "page_number":
          if (next) out = setPath(out, s.recordSelector, []);
          break;
        case "none":
          break;
      }
    }
    if (opts.tamper) out = opts.tamper({ op, roles: exchange.roles, body: out });
    const problems = checkResponse(c, op, success.status, out);
    if (problems.length) return refuse(502, problems.map((x) => `the answer leaves the response schema: ${x}`));
    return { status: success.status, body: out, headers: outHeaders, exchange };
  }

  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (b: Buffer) => chunks.push(b));
    req.on("end", () => {
      let a: ReturnType<typeof answer>;
      try {
        a = answer(req, Buffer.concat(chunks).toString("utf8"));
      } catch (e) {
        violations.push(`${req.method} ${req.url}: the stand-in failed: ${(e as Error).message}`);
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ standin: "failed" }));
        return;
      }
      a.exchange.status = a.status;
      exchanges.push(a.exchange);
      const text = JSON.stringify(a.body);
      res.writeHead(a.status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...a.headers }).end(text);
    });
  });
  server.on("connection", (sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    baseUrl: origin + basePath,
    exchanges,
    violations,
    get notes() {
      return [...notes];
    },
    pages: (stream) => ({ ...(pageCount.get(stream) ?? { first: 0, next: 0 }) }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
