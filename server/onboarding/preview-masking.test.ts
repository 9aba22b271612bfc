import { describe, expect, it } from "vitest";
import { isCardLike, luhnValid, maskEveryKind, maskText, maskValue } from "./preview-masking";

describe("preview masking", () => {
  it("shows an email's shape, not the person", () => {
    expect(maskText("john.doe@example.com")).toBe("j•••@e•••.com");
    expect(maskText("Contact: Ana <ana+ops@mail.acme.co.uk> today")).toBe("Contact: Ana <a•••@m•••.uk> today");
  });

  it("keeps a phone number's country code, separators and last two digits", () => {
    expect(maskText("+1 415-555-0112")).toBe("+1 •••-•••-••12");
    expect(maskText("call (415) 555-0112")).toBe("call (•••) •••-••12");
    expect(maskText("+447911123456")).toBe("+••••••••••56");
    expect(maskText("+44 20 7946 0958")).toBe("+44 •• •••• ••58");
  });

  it("replaces card-like numbers (Luhn-valid, or grouped like a card) by their last four digits", () => {
    expect(maskText("4242424242424242")).toBe("•••• 4242");
    expect(maskText("card 4111 1111 1111 1111 on file")).toBe("card •••• 1111 on file");
    expect(maskText("3782-822463-10005")).toBe("•••• 0005");
    // grouped like a card but failing Luhn: still card-like
    expect(maskText("1234 5678 9012 3456")).toBe("•••• 3456");
    expect(maskValue(4242424242424242)).toBe("•••• 4242");
  });

  it("leaves dates, timestamps, ids and plain numbers alone", () => {
    for (const s of ["2026-11-20T09:00:00Z", "2026-11-20", "192.168.1.10", "v1.2.3", "order 12345", "1764000000001", "1700000000.000100", "a@b"]) {
      expect(maskText(s)).toBe(s);
    }
    expect(maskValue(1764000000001)).toBe(1764000000001);
    expect(maskValue(42)).toBe(42);
    // masking errs towards hiding: a 13-digit number that happens to pass Luhn is treated as a card
    expect(maskValue(1764000000000)).toBe("•••• 0000");
    expect(maskValue(true)).toBe(true);
    expect(maskValue(null)).toBe(null);
  });

  it("masks inside nested objects and arrays", () => {
    expect(maskValue({ owner: { login: "octo", email: "octo@github.com" }, phones: ["+1 415-555-0112"] })).toEqual({
      owner: { login: "octo", email: "o•••@g•••.com" },
      phones: ["+1 •••-•••-••12"],
    });
  });

  it("implements Luhn and the 13–19 digit bound", () => {
    expect(luhnValid("4242424242424242")).toBe(true);
    expect(luhnValid("4242424242424241")).toBe(false);
    expect(isCardLike("424242424242")).toBe(false); // 12 digits
    expect(isCardLike("42424242424242424242")).toBe(false); // 20 digits
    expect(isCardLike("4222222222222")).toBe(true); // 13-digit Visa test number
  });

  it("masks exactly as running every pattern would, on text with few digits or no @ too (the shortcut changes no result)", () => {
    // a seeded mix of the pieces the patterns look for: digits in runs and groups, @, +, separators, words
    const parts = ["4242", "42", "4", "0112", "+", "+1 ", "+44", "(415) ", "555-", "-", " ", ".", "@", "a@b", "ana@mail.acme.co.uk", "x.y", "co", "word", "name: ", "7"];
    let seed = 13;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let shortcut = 0;
    for (let n = 0; n < 5000; n++) {
      const text = Array.from({ length: 1 + Math.floor(next() * 9) }, () => parts[Math.floor(next() * parts.length)]).join("");
      if ((text.match(/\d/g) ?? []).length < 8) shortcut++;
      expect(maskText(text), text).toBe(maskEveryKind(text));
    }
    // both paths were exercised: text the shortcut settles, and text that runs every pattern
    expect(shortcut).toBeGreaterThan(500);
    expect(shortcut).toBeLessThan(4500);
    for (const t of ["+1 234 5678", "1234567", "12345678", "ana@x.io 1234567", "415 555 0112", "4111-1111-1111-1111"]) expect(maskText(t), t).toBe(maskEveryKind(t));
    expect(maskText("+1 234 5678")).not.toBe("+1 234 5678");
  });
});

describe("previewOf (what the pipeline stores)", async () => {
  const { previewOf } = await import("./pipeline");
  const records = [{ stream: "users", data: { id: 7, email: "jane@example.com", phone: "+1 415-555-0112", author: "Jane", api_token: "t", note: "paid with 4242 4242 4242 4242" } }];

  it("masks by default and still hides secret-looking fields", () => {
    expect(previewOf(records, [])[0]!.data).toEqual({ id: 7, email: "j•••@e•••.com", phone: "+1 •••-•••-••12", author: "Jane", api_token: "[redacted]", note: "paid with •••• 4242" });
  });

  it("hides a secret inside a small nested value and one that lies across the cut of a long value", () => {
    const secret = "s3cr3t-T0ken-abcdefghij";
    const out = previewOf(
      [{ stream: "s", data: { meta: { pwd: "hunter2", n: 1 }, echo: { headers: { x: secret } }, long: `${"a".repeat(110)}${secret} tail`, count: 3, tags: ["x", "y"] } }],
      [secret],
    )[0]!.data;
    const shown = JSON.stringify(out);
    expect(shown).not.toContain("hunter2");
    expect(shown).not.toContain("s3cr3t");
    expect(shown).not.toContain("T0ken");
    expect(out.meta).toBe('{"pwd":"[redacted]","n":1}');
    expect(out.echo).toBe('{"headers":{"x":"[redacted]"}}');
    expect(out.long).toBe(`${"a".repeat(110)}[redact…`);
    // values with nothing to hide keep their type
    expect(out.count).toBe(3);
    expect(out.tags).toEqual(["x", "y"]);
  });

  it("keeps values as they are when the tenant turned masking off (secrets stay hidden)", () => {
    expect(previewOf(records, ["Jane"], { mask: false })[0]!.data).toMatchObject({ email: "jane@example.com", phone: "+1 415-555-0112", api_token: "[redacted]", note: "paid with 4242 4242 4242 4242" });
  });
});
