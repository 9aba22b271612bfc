import { describe, expect, it } from "vitest";
import { resolveSandboxRefs, usesSandbox } from "./refs";

describe("sandbox references in intent config", () => {
  const endpoints = { github: "http://127.0.0.1:4510/github", files: "/srv/files" };
  it("expands sandbox:<name>[/path] to the running sandbox, and leaves everything else alone", () => {
    expect(resolveSandboxRefs({ base_url: "sandbox:github", root: "sandbox:files/sub", org: "acme", n: 3, other: "sandbox:nope" }, endpoints)).toEqual({
      base_url: "http://127.0.0.1:4510/github",
      root: "/srv/files/sub",
      org: "acme",
      n: 3,
      other: "sandbox:nope",
    });
  });
  it("tells sandbox connections apart (for the label in the UI)", () => {
    expect(usesSandbox({ base_url: "sandbox:github" })).toBe(true);
    expect(usesSandbox({ base_url: "https://api.github.com", note: "not sandbox:x" })).toBe(false);
  });
});
