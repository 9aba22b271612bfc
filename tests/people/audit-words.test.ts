/** The Audit page's words for an entry's target (lib/audit-words.ts): a connection is a link to its page, never a bare `connection:<uuid>`. */
import { describe, expect, it } from "vitest";
import { targetInWords } from "../../lib/audit-words";

describe("audit targets in words", () => {
  it("links a connection, names a namespace, keeps anything else as written", () => {
    expect(targetInWords("connection:0f1e2d3c-4b5a-4968-8776-655443322110")).toEqual({ text: "connection 0f1e2d3c…", href: "/connections/0f1e2d3c-4b5a-4968-8776-655443322110" });
    expect(targetInWords("namespace:autonomy")).toEqual({ text: "namespace “autonomy”" });
    for (const t of ["ann@example.com", "connection:not-a-uuid", "127.0.0.1:5432 for github", "", "AOD production"]) expect(targetInWords(t)).toEqual({ text: t });
  });
});
