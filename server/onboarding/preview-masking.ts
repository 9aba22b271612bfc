/**
 * Data minimisation for the stored sample preview (issue 8, item 9): emails, phone numbers and
 * card-like numbers are replaced by their shape, so an admin can see that a field holds an email
 * or a card without seeing whose (`j•••@e•••.com`, `+1 •••-•••-••12`, `•••• 4242`). On by
 * default; a tenant admin can turn it off on the Settings page. Pure functions: the pipeline
 * applies them before the preview is written, so an unmasked value is never stored.
 */

const DOT = "•";
const DOTS = DOT.repeat(3);

// local@domain.tld — deliberately loose on the local part, strict enough on the domain to skip "a@b"
const EMAIL = /[A-Za-z0-9._%+'-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b/g;
// 13–19 digits, either in one run or grouped by single spaces/dashes
const CARD = /(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d.])/g;
// international (+ and 8–15 digits, separators allowed) or North-American (415) 555-0112 / 415-555-0112
const PHONE_INTL = /\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){1,5}(?![\d])/g;
const PHONE_NANP = /(?<![\d+])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\d)/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** A 13–19 digit number that passes the Luhn check, or is grouped the way cards are printed (4-4-4-4…, 4-6-5). */
export function isCardLike(text: string): boolean {
  const digits = text.replace(/[ -]/g, "");
  if (!/^\d{13,19}$/.test(digits)) return false;
  if (luhnValid(digits)) return true;
  const groups = text.split(/[ -]/).map((g) => g.length);
  if (groups.length === 1) return false;
  const fours = groups.slice(0, -1).every((n) => n === 4) && groups.at(-1)! >= 1 && groups.at(-1)! <= 4;
  const amex = groups.length === 3 && groups[0] === 4 && groups[1] === 6 && (groups[2] === 5 || groups[2] === 4);
  return fours || amex;
}

function maskEmail(email: string): string {
  const [local = "", domain = ""] = email.split("@");
  const labels = domain.split(".");
  const tld = labels.at(-1) ?? "";
  return `${local.slice(0, 1)}${DOTS}@${(labels[0] ?? "").slice(0, 1)}${DOTS}.${tld}`;
}

/** Every digit but the last two becomes a dot; a leading country code (`+1 `) and the separators stay. */
function maskPhone(phone: string): string {
  const cc = /^\+\d{1,3}(?=[ .(-])/.exec(phone)?.[0] ?? (phone.startsWith("+") ? "+" : "");
  const rest = phone.slice(cc.length);
  const total = rest.replace(/\D/g, "").length;
  let seen = 0;
  return cc + rest.replace(/\d/g, (d) => (++seen > total - 2 ? d : DOT));
}

function maskCard(card: string): string {
  return `${DOT.repeat(4)} ${card.replace(/[ -]/g, "").slice(-4)}`;
}

/** Masks every email, card-like number and phone number inside a piece of text. */
export function maskText(text: string): string {
  // an email needs an "@"; a card 13 digits, a phone 8 (international) or 10 (North American):
  // text without them is returned as it is, after one pass over it instead of four regexps
  let digits = 0;
  let at = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 64) at = true;
  }
  if (digits < 8) return at ? text.replace(EMAIL, maskEmail) : text;
  return maskEveryKind(text);
}

/** maskText without the shortcut (tests check that the shortcut never changes a result). */
export function maskEveryKind(text: string): string {
  return text
    .replace(EMAIL, maskEmail)
    .replace(CARD, (m) => (isCardLike(m) ? maskCard(m) : m))
    .replace(PHONE_INTL, (m) => {
      const n = m.replace(/\D/g, "").length;
      return n >= 8 && n <= 15 ? maskPhone(m) : m;
    })
    .replace(PHONE_NANP, maskPhone);
}

/** Masks strings at any depth; a JSON number that is card-like becomes its masked string. */
export function maskValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskText(value);
  if (typeof value === "number" && Number.isInteger(value) && isCardLike(String(value))) return maskCard(String(value));
  if (depth >= 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => maskValue(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, depth + 1)]));
}
