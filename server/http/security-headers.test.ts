import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, servedOverHttps } from "./security-headers";

describe("security headers", () => {
  it("allows scripts only with the nonce, and never framing", () => {
    const csp = contentSecurityPolicy("abc123");
    expect(csp).toContain("script-src 'self' 'nonce-abc123' 'strict-dynamic'");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(contentSecurityPolicy("n", { dev: true })).toContain("'unsafe-eval'");
  });
  it("sends HSTS only over https: AUTH_URL decides, else the proxy's X-Forwarded-Proto", () => {
    const h = (v?: string) => new Headers(v ? { "x-forwarded-proto": v } : {});
    expect(servedOverHttps(h(), "http://app.test/", "https://aam.example.com")).toBe(true);
    expect(servedOverHttps(h("https"), "http://app.test/", "http://127.0.0.1:3000")).toBe(false);
    expect(servedOverHttps(h("https"), "http://app.test/", undefined)).toBe(true);
    expect(servedOverHttps(h("https, http"), "http://app.test/", undefined)).toBe(true);
    expect(servedOverHttps(h(), "http://app.test/", undefined)).toBe(false);
    expect(servedOverHttps(h(), "https://app.test/", undefined)).toBe(true);
  });
});
