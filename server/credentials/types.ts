/**
 * Credential resolution contract (DESIGN.md "Credentials").
 * Locator grammar: vault:<path>[#<key>] | env:<VAR> | consent:<provider> | sp:<name>.
 * Failures are values; `consent_required` makes the pipeline set AWAITING_CREDENTIALS with a
 * consent link, `missing`/`unreadable` make it AWAITING_CREDENTIALS with the reason.
 */
import type { Result } from "../lib/result";

export type Locator =
  | { scheme: "vault"; path: string; key?: string }
  | { scheme: "env"; name: string }
  | { scheme: "consent"; provider: string }
  | { scheme: "sp"; name: string };

export type CredentialFailureKind = "invalid_locator" | "consent_required" | "missing" | "unreadable";
export type CredentialFailure = { kind: CredentialFailureKind; message: string };

/** Secret fields handed to the adapter (e.g. { token }, { password }, { dsn }, { access_token }). */
export type SecretBundle = Record<string, string>;

export type ResolveContext = {
  tenantId: string;
  connectionId: string;
  sourceType: string;
  /** the catalog's OAuth token URL for this source type (for sp: client-credentials), if any */
  tokenUrl?: string;
  /** read-only scopes from the catalog entry */
  scopes?: string[];
  config: Record<string, unknown>;
};

export interface CredentialResolver {
  resolve(locator: string, ctx: ResolveContext): Promise<Result<SecretBundle, CredentialFailure>>;
  /**
   * True when what `locator` resolves to may go only to the connector's vendor hosts, never to a
   * host the tenant's admin approved: an install-wide secret used by another organisation than
   * the install's own (tenant-scope.ts isInstallWideEnvLocator). Absent: no such limit.
   */
  vendorHostsOnly?(locator: string, tenantId: string): Promise<boolean>;
}
