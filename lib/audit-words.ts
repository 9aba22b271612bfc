/** The audit log's actions in words: the Audit page and the Settings page's recent changes show these, never the codes. Plain data, safe in the browser. */

/** Every action the product records, in words (the page shows these, never the codes). */
export const ACTION_LABELS: Record<string, string> = {
  "sign_in.succeeded": "Signed in",
  "sign_in.failed": "Sign-in refused",
  "user.invited": "Invited a user",
  "invite.accepted": "Accepted an invite",
  "invite.revoked": "Withdrew an invite",
  "user.role_changed": "Changed a role",
  "user.disabled": "Disabled a user",
  "user.enabled": "Re-enabled a user",
  "password.reset_requested": "Made a password-reset link",
  "password.reset_revoked": "Withdrew a password-reset link",
  "password.reset_completed": "Set a new password from a reset link",
  "api_key.created": "Created an API key",
  "api_key.revoked": "Revoked an API key",
  "heal.started": "Started a heal",
  "consent.started": "Started an admin consent",
  "consent.completed": "Completed an admin consent",
  "consent.denied": "Admin consent denied",
  "consent.refused": "Admin consent refused",
  "consent.failed": "Admin consent failed",
  "destination.added": "Added an approved destination",
  "destination.updated": "Changed an approved destination",
  "destination.removed": "Removed an approved destination",
  "destination.approved": "Approved a blocked destination",
  "settings.preview_masking": "Changed preview masking",
  "settings.changed": "Changed Safe Mode, caps or the SLO target",
  "oauth_app.added": "Added an OAuth app",
  "oauth_app.updated": "Changed an OAuth app",
  "oauth_app.removed": "Removed an OAuth app",
  "secret_binding.bound": "Bound a secret where it was first used",
  "secret_binding.allowed": "Allowed a secret at another destination",
  "secret_binding.removed": "Removed a secret's binding",
  "secret_binding.approval": "Changed who binds a secret first",
  "tenant.created": "Created the tenant",
  "tenant.disabled": "Disabled the tenant",
  "tenant.enabled": "Re-enabled the tenant",
};

export const actionLabel = (action: string) => ACTION_LABELS[action] ?? action.replace(/[._]/g, " ");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An entry's target as the Audit page shows it: a connection as a link to its page, a namespace by name, anything else as written. */
export function targetInWords(target: string): { text: string; href?: string } {
  const [kind, rest] = [target.slice(0, target.indexOf(":")), target.slice(target.indexOf(":") + 1)];
  if (kind === "connection" && UUID.test(rest)) return { text: `connection ${rest.slice(0, 8)}…`, href: `/connections/${rest}` };
  if (kind === "namespace" && rest) return { text: `namespace “${rest}”` };
  return { text: target };
}
