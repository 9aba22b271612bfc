import { describe, expect, it } from "vitest";
import { resolveSandboxRefs, sandboxNotRunning, usesSandbox } from "./refs";

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
  it("never expands names inherited from Object.prototype", () => {
    expect(resolveSandboxRefs({ base_url: "sandbox:constructor" }, endpoints)).toEqual({ base_url: "sandbox:constructor" });
  });
  it("tells sandbox connections apart (for the label in the UI)", () => {
    expect(usesSandbox({ base_url: "sandbox:github" })).toBe(true);
    expect(usesSandbox({ base_url: "https://api.github.com", note: "not sandbox:x" })).toBe(false);
  });
  it("refuses an unexpanded reference in words (the sandboxes are not running)", () => {
    const f = sandboxNotRunning("base_url", "sandbox:github");
    expect(f).toEqual({ kind: "egress_refused", message: expect.stringMatching(/^Destination not approved: config\.base_url refers to the sandbox "github", and no such sandbox is running/) });
    expect(sandboxNotRunning("base_url", "https://api.github.com")).toBeUndefined();
    expect(sandboxNotRunning("base_url", 3)).toBeUndefined();
  });
});
