import { describe, expect, it } from "vitest";
import { formatLocator, MAX_LOCATOR_LENGTH, parseLocator } from "./locator";

const parsed = (s: string) => {
  const r = parseLocator(s);
  if (!r.ok) throw new Error(`expected ${s} to parse: ${r.error}`);
  return r.value;
};
const problem = (s: string) => {
  const r = parseLocator(s);
  if (r.ok) throw new Error(`expected ${s} to be rejected`);
  return r.error;
};

describe("credential locator grammar", () => {
  it("parses each scheme into the Locator union", () => {
    expect(parsed("vault:apps/postgres")).toEqual({ scheme: "vault", path: "apps/postgres" });
    expect(parsed("vault:apps/postgres#password")).toEqual({ scheme: "vault", path: "apps/postgres", key: "password" });
    expect(parsed("env:PG_PASSWORD")).toEqual({ scheme: "env", name: "PG_PASSWORD" });
    expect(parsed("consent:google")).toEqual({ scheme: "consent", provider: "google" });
    expect(parsed("sp:reporting-bot")).toEqual({ scheme: "sp", name: "reporting-bot" });
  });

  it("accepts an upper-case scheme and surrounding spaces, and formats canonically", () => {
    const l = parsed("  VAULT:team/crm#api_key ");
    expect(formatLocator(l)).toBe("vault:team/crm#api_key");
    for (const s of ["vault:a/b", "vault:a/b#k", "env:X_1", "consent:microsoft", "sp:svc.1"]) expect(formatLocator(parsed(s))).toBe(s);
  });

  it("rejects an empty vault path or key", () => {
    expect(problem("vault:")).toMatch(/vault: needs a path/);
    expect(problem("vault:#password")).toMatch(/vault: path is empty/);
    expect(problem("vault:apps/pg#")).toMatch(/key after # must be a non-empty field name/);
  });

  it("rejects vault paths that could leave the mount or are malformed", () => {
    expect(problem("vault:apps/../sys/seal")).toMatch(/segment "\.\."/);
    expect(problem("vault:/apps/pg")).toMatch(/must not start or end with "\/"/);
    expect(problem("vault:apps//pg")).toMatch(/"\/\/"/);
    expect(problem("vault:apps/p g")).toMatch(/segment "p g" is not allowed/);
    expect(problem("vault:apps/pg?version=1")).toMatch(/not allowed/);
  });

  it("rejects bad environment variable names and the app's own secrets", () => {
    expect(problem("env:")).toMatch(/environment variable name/);
    expect(problem("env:pg_password")).toMatch(/upper-case letters/);
    expect(problem("env:1ABC")).toMatch(/environment variable name/);
    expect(problem("env:PG-PASSWORD")).toMatch(/environment variable name/);
    expect(problem("env:ENCRYPTION_KEY")).toMatch(/app's own secret/);
    expect(problem("env:DATABASE_URL")).toMatch(/app's own secret/);
  });

  it("rejects unknown schemes and missing schemes with the list of valid ones", () => {
    expect(problem("aws:secretsmanager/x")).toBe('unknown credential locator scheme "aws" (expected vault:, env:, consent: or sp:)');
    expect(problem("just-a-name")).toMatch(/<scheme>:<value>/);
    expect(problem("")).toMatch(/<scheme>:<value>/);
    expect(problem(":x")).toMatch(/<scheme>:<value>/);
  });

  it("rejects bad consent provider and service principal names", () => {
    expect(problem("consent:")).toMatch(/consent: needs a provider name/);
    expect(problem("consent:goo gle")).toMatch(/consent: needs a provider name/);
    expect(problem("sp:")).toMatch(/sp: needs a service principal name/);
    expect(problem("sp:-x")).toMatch(/sp: needs a service principal name/);
  });

  it("rejects locators longer than 512 characters and control characters", () => {
    const long = `vault:${"a".repeat(MAX_LOCATOR_LENGTH)}`;
    expect(problem(long)).toMatch(/longer than 512 characters/);
    expect(parseLocator(`vault:${"a".repeat(MAX_LOCATOR_LENGTH - 6)}`).ok).toBe(true);
    expect(problem("env:PG\nPASSWORD")).toMatch(/control characters/);
    expect(problem("vault:a/b#k\u0000")).toMatch(/control characters/);
  });
});
