/**
 * Scrubs secrets out of text before it becomes an error message, a status reason or a log line.
 * Known values (and their URL-encoded forms) go first; generic patterns then catch secrets we
 * were never told about, such as a token echoed back by an upstream error body.
 */
export const REDACTED = "[redacted]";

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const SECRET_KEY = String.raw`[A-Za-z0-9_.-]*(?:password|passwd|pwd|token|secret|api[_-]?key|apikey|client[_-]?secret|credential|sig|signature)`;

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization header values and bare "Bearer x" / "Basic x" wherever they appear.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/\b(authorization|x-vault-token|x-api-key|api-key)(["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic)\s+)?[^\s"',;&]+/gi, `$1$2${REDACTED}`],
  // JSON-ish "password": "..." pairs.
  [new RegExp(String.raw`("${SECRET_KEY}"\s*:\s*")(?:[^"\\]|\\.)*"`, "gi"), `$1${REDACTED}"`],
  // query strings, form bodies and key=value / key: value text.
  [new RegExp(String.raw`\b(${SECRET_KEY})(\s*[=:]\s*)(?!\[redacted\])[^\s&"',;]+`, "gi"), `$1$2${REDACTED}`],
  // user:password@ in URLs (any scheme).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, `$1${REDACTED}@`],
];

export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(new URLSearchParams({ v: s }).toString().slice(2));
  }
  // Longest first, so a secret that contains another is not left half-replaced.
  for (const f of [...forms].sort((a, b) => b.length - a.length)) {
    out = out.replace(new RegExp(escapeRe(f), "g"), REDACTED);
  }
  for (const [re, to] of PATTERNS) out = out.replace(re, to);
  return out;
}
