/**
 * Scrubs secrets out of text before it becomes an error message, a status reason or a log line.
 * Known values (and their URL-encoded forms) go first; generic patterns then catch secrets we
 * were never told about, such as a token echoed back by an upstream error body.
 */
export const REDACTED = "[redacted]";

const SECRET_KEY = String.raw`[A-Za-z0-9_.-]*(?:password|passwd|pwd|token|secret|api[_-]?key|apikey|client[_-]?secret|credential|sig|signature)`;

/** A word every SECRET_KEY contains (password, passwd → "passw"; client_secret → "secret"; signature → "sig"). */
const SECRET_WORD = /passw|pwd|token|secret|api[_-]?key|apikey|credential|sig/i;
const SCHEME_WORD = /bearer|basic/i;
const HEADER_WORD = /authorization|x-vault-token|x-api-key|api-key/i;
const SEPARATOR = /[=:]/;

/**
 * Each pattern with a cheap test that holds of every text the pattern can match (a keyword or
 * character no match is without): a pattern whose test fails is not run. Most values of a preview
 * hold a URL ("://", "api.") or a word such as "design" that once sent them through all five.
 */
const PATTERNS: Array<[RegExp, string, (text: string) => boolean]> = [
  // Authorization header values and bare "Bearer x" / "Basic x" wherever they appear.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`, (t) => SCHEME_WORD.test(t)],
  [
    /\b(authorization|x-vault-token|x-api-key|api-key)(["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic)\s+)?[^\s"',;&]+/gi,
    `$1$2${REDACTED}`,
    (t) => HEADER_WORD.test(t),
  ],
  // JSON-ish "password": "..." pairs.
  [new RegExp(String.raw`("${SECRET_KEY}"\s*:\s*")(?:[^"\\]|\\.)*"`, "gi"), `$1${REDACTED}"`, (t) => t.includes('"') && SECRET_WORD.test(t)],
  // query strings, form bodies and key=value / key: value text.
  [new RegExp(String.raw`\b(${SECRET_KEY})(\s*[=:]\s*)(?!\[redacted\])[^\s&"',;]+`, "gi"), `$1$2${REDACTED}`, (t) => SEPARATOR.test(t) && SECRET_WORD.test(t)],
  // user:password@ in URLs (any scheme).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, `$1${REDACTED}@`, (t) => t.includes("://") && t.includes("@")],
];

export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  return redactor(secrets)(text);
}

/**
 * redact for many texts with the same secrets (a preview's values): the secrets' forms are
 * worked out once. Every occurrence of every form is found in the text as given, and each run
 * of overlapping occurrences becomes one "[redacted]": two secrets that overlap leave no part of
 * either (replacing one form after the other would leave the other's head or tail).
 */
export function redactor(secrets: readonly (string | undefined)[] = []): (text: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(new URLSearchParams({ v: s }).toString().slice(2));
  }
  const known = [...forms];
  return (text) => {
    let clean = known.length ? replaceOccurrences(text, known) : text;
    // each pattern only where its test says it can match (tests check this never changes a result)
    for (const [re, to, may] of PATTERNS) if (may(clean)) clean = clean.replace(re, to);
    return clean;
  };
}

function replaceOccurrences(text: string, forms: readonly string[]): string {
  const spans: [number, number][] = [];
  for (const f of forms) for (let i = text.indexOf(f); i !== -1; i = text.indexOf(f, i + 1)) spans.push([i, i + f.length]);
  if (!spans.length) return text;
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = "";
  let at = 0;
  for (let k = 0; k < spans.length; ) {
    const start = spans[k]![0];
    let end = spans[k]![1];
    // occurrences that overlap this one join it
    while (++k < spans.length && spans[k]![0] < end) end = Math.max(end, spans[k]![1]);
    out += text.slice(at, start) + REDACTED;
    at = end;
  }
  return out + text.slice(at);
}

/** Every pattern on every text, without the tests that skip one (the reference the tests compare redactor with). */
export function redactEveryPattern(text: string): string {
  let out = text;
  for (const [re, to] of PATTERNS) out = out.replace(re, to);
  return out;
}
