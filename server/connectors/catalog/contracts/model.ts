/**
 * The shape of a derived vendor contract (scripts/derive-vendor-contracts.ts writes them, the
 * contract tests read them) and the path-template matching both share. No I/O here.
 */
export type JsonSchema = { [k: string]: unknown };

export type ContractParam = { name: string; in: "query" | "path"; required: boolean; repeated?: boolean };

export type ContractOperation = {
  /** operationId, discovery method id, botocore operation or Stone `<ns>/<route>` */
  id: string;
  method: string;
  /** from the host root, the description's server/basePath prefix included; `{x}` one segment, `{+x}`/`{x+}` the rest */
  path: string;
  params: ContractParam[];
  /** query parameters the operation's URI fixes (botocore `?list-type=2`) */
  fixedQuery?: Record<string, string>;
  /** AWS JSON 1.1: the X-Amz-Target header value */
  target?: string;
  /** the JSON request body's schema */
  body?: JsonSchema;
  /** 2xx status → JSON response schema (null: the description gives no JSON schema) */
  responses: Record<string, JsonSchema | null>;
  /** OAuth scopes, where the description states them: any one of the alternatives, each a set that is needed in full */
  scopes?: string[][];
};

export type Contract = {
  sourceType: string;
  generatedBy: string;
  sources: { file: string; sha256: string }[];
  licence: string;
  format: string;
  operations: ContractOperation[];
  $defs: Record<string, JsonSchema>;
};

/** Does a concrete path (no query) match a path template? Segments are compared decoded. */
export function matchPath(template: string, concrete: string): boolean {
  return matchScore(template, concrete) !== undefined;
}

/** undefined: no match; otherwise the number of parameter segments (fewer = more specific). */
export function matchScore(template: string, concrete: string): number | undefined {
  const t = template.replace(/\/+$/, "").split("/");
  const c = concrete.replace(/\/+$/, "").split("/");
  let params = 0;
  for (let i = 0; i < t.length; i++) {
    const seg = t[i]!;
    if (/^\{\+[^}]+\}$|^\{[^}]+\+\}$/.test(seg)) return c.length > i ? params + 1 : undefined; // greedy rest
    if (i >= c.length) return undefined;
    const cs = safeDecode(c[i]!);
    if (seg.includes("{")) {
      // a segment with parameters and literals (`{name}:search`, `{id}.json`)
      const re = new RegExp(`^${seg.split(/\{[^}]+\}/).map(escapeRe).join("[^/]+")}$`);
      if (!re.test(cs) || cs === "") return undefined;
      params++;
    } else if (seg !== cs) return undefined;
  }
  return t.length === c.length ? params : undefined;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
