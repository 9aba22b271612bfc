import { describe, expect, it } from "vitest";
import { can } from "./roles";

describe("roles", () => {
  it("lets execs view the funnel only", () => {
    expect(can("exec", "view_funnel")).toBe(true);
    expect(can("exec", "heal")).toBe(false);
    expect(can("exec", "manage_api_keys")).toBe(false);
    expect(can("exec", "view_connections")).toBe(false);
  });
  it("lets admins do everything, and nobody without a role anything", () => {
    expect(can("admin", "heal")).toBe(true);
    expect(can("admin", "manage_api_keys")).toBe(true);
    expect(can(undefined, "view_funnel")).toBe(false);
  });
});
