/** What each role may do. The server checks these in every procedure and route. */
import type { Role } from "./user-repository";

export type Capability = "view_funnel" | "view_connections" | "heal" | "consent" | "manage_api_keys" | "manage_settings" | "manage_users" | "view_audit";

const CAPABILITIES: Record<Role, ReadonlySet<Capability>> = {
  admin: new Set(["view_funnel", "view_connections", "heal", "consent", "manage_api_keys", "manage_settings", "manage_users", "view_audit"]),
  exec: new Set(["view_funnel"]),
};

export function can(role: Role | undefined, capability: Capability): boolean {
  return role ? CAPABILITIES[role].has(capability) : false;
}
