import { describe, expect, it } from "vitest";
import { SignInThrottle, clientAddress } from "./sign-in-throttle";

describe("sign-in throttle", () => {
  it("refuses an account after 5 failures in 15 minutes, in words, and lets it in again after", () => {
    let now = 1_000_000;
    const t = new SignInThrottle({}, () => now);
    for (let i = 0; i < 5; i++) {
      expect(t.check("Admin@Example.com", `10.0.0.${i}`)).toBeNull();
      t.failed("admin@example.com", `10.0.0.${i}`);
    }
    expect(t.check("admin@example.com", "10.9.9.9")).toBe("Too many sign-in attempts; try again in 15 minutes.");
    now += 14 * 60_000 + 1;
    expect(t.check("admin@example.com", null)).toBe("Too many sign-in attempts; try again in 1 minute.");
    now += 60_000;
    expect(t.check("admin@example.com", null)).toBeNull();
  });

  it("refuses a client address after 30 failures across accounts; success clears only the account", () => {
    let now = 0;
    const t = new SignInThrottle({}, () => now);
    for (let i = 0; i < 30; i++) t.failed(`user${i}@example.com`, "203.0.113.7");
    expect(t.check("fresh@example.com", "203.0.113.7")).toMatch(/^Too many sign-in attempts; try again in 15 minutes\.$/);
    expect(t.check("fresh@example.com", "203.0.113.8")).toBeNull();
    for (let i = 0; i < 4; i++) t.failed("me@example.com", "198.51.100.1");
    t.succeeded("me@example.com");
    t.failed("me@example.com", "198.51.100.1");
    expect(t.check("me@example.com", "198.51.100.1")).toBeNull();
    now += 1;
  });

  it("stays bounded under random emails and addresses", () => {
    const t = new SignInThrottle();
    for (let i = 0; i < 50_000; i++) t.failed(`r${i}@x.test`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(t.entries).toBeLessThanOrEqual(40_000);
  });

  it("takes the address the server saw (the last X-Forwarded-For entry), not one the client wrote", () => {
    expect(clientAddress(new Headers({ "x-forwarded-for": "1.2.3.4, 127.0.0.1" }))).toBe("127.0.0.1");
    expect(clientAddress(new Headers({ "x-real-ip": "9.9.9.9" }))).toBe("9.9.9.9");
    expect(clientAddress(new Headers())).toBeNull();
  });
});
