/**
 * For tests that run catalog entries against stand-ins: a secret that satisfies every auth mode's
 * fields (the driver picks the entry's first satisfiable mode), and an entry's config from its
 * fields' documented examples and defaults (never base_url: the test points it at its stand-in).
 */
import type { CatalogEntry } from "./schema";

export const ANY_AUTH_SECRET: Record<string, string> = {
  access_token: "at-123", token: "tok-123", api_key: "k-123", application_key: "app-123", email: "bot@example.com", api_token: "api-123",
  access_key_id: "AKIDEXAMPLE", secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", private_key: "pk", client_email: "sa@example.iam.gserviceaccount.com",
};

export function exampleConfigOf(e: CatalogEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of e.configFields) {
    if (f.name === "base_url") continue;
    const v = f.example ?? f.default;
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}
