import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { END, README, START, readinessTable, withTable } from "./readiness-table";

describe("README readiness table", () => {
  it("is current (run npm run readiness after changing the catalog)", () => {
    const readme = fs.readFileSync(README, "utf8");
    expect(readme).toContain(START);
    expect(readme).toContain(END);
    expect(withTable(readme)).toBe(readme);
  });

  it("has one row per source type, flags broader grants and lists what only documentation backs", () => {
    const t = readinessTable();
    expect(t.split("\n").filter((l) => l.startsWith("| `"))).toHaveLength(33);
    expect(t).toMatch(/\| `servicenow` \|[^\n]*\*\*no read-only grant\*\*: `useraccount` \(broader\)/);
    expect(t).toMatch(/\| `slack` \|[^\n]*\| read-only: `channels:read`/);
    // what no public vendor page states is named as the admin's input, not as a catalog fact
    expect(t).toMatch(/\| `workday` \|[^\n]*\| no \| 4\/4 \| authorization and token endpoints: the tenant's per-instance OAuth app/);
    expect(t).not.toMatch(/unverified/);
    // a stale table is detected
    expect(withTable(`x\n${START}\nold\n${END}\n`)).not.toContain("old");
  });
});
