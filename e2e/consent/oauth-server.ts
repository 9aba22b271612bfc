/**
 * The authorization server the consent spec runs against: oidc-provider 8.8.1 on a fixed port
 * with fixed clients (playwright.config.ts E2E_OAUTH), because the app under test is configured
 * before the spec starts. Its own development login and consent pages are what Chromium clicks
 * through. GitHub's read-only scopes reach the access tokens through a resource indicator; the
 * sandbox client may introspect them (RFC 7662), which is how the sandbox GitHub API accepts them.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
// @ts-expect-error oidc-provider 8.x ships no type declarations
import ProviderCtor from "oidc-provider";
import { E2E_OAUTH } from "../../playwright.config";

export const GITHUB_SCOPES = ["read:org", "read:user"] as const;

export async function startE2eOAuthServer(): Promise<{ close: () => Promise<void> }> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const provider = new ProviderCtor(E2E_OAUTH.issuer, {
    clients: [
      {
        client_id: E2E_OAUTH.consentClient.clientId,
        client_secret: E2E_OAUTH.consentClient.clientSecret,
        grant_types: ["authorization_code", "refresh_token"],
        redirect_uris: [E2E_OAUTH.redirectUri],
        response_types: ["code"],
        scope: ["openid", "offline_access", ...GITHUB_SCOPES].join(" "),
      },
      // the sandbox, as a resource server: it only introspects
      { client_id: E2E_OAUTH.sandboxClient.clientId, client_secret: E2E_OAUTH.sandboxClient.clientSecret, grant_types: [], redirect_uris: [], response_types: [] },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), use: "sig", kid: "e2e", alg: "RS256" }] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    scopes: ["openid", "offline_access", ...GITHUB_SCOPES],
    pkce: { methods: ["S256"], required: () => true },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed("refresh_token"),
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    ttl: { AccessToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, RefreshToken: 86400 },
    features: {
      devInteractions: { enabled: true },
      introspection: {
        enabled: true,
        // only the sandbox may ask about tokens
        allowedPolicy: async (ctx: { oidc: { client: { clientId: string } } }) => ctx.oidc.client.clientId === E2E_OAUTH.sandboxClient.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => E2E_OAUTH.resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== E2E_OAUTH.resource) throw new Error(`unknown resource ${indicator}`);
          return { scope: GITHUB_SCOPES.join(" "), audience: E2E_OAUTH.resource, accessTokenTTL: 3600, accessTokenFormat: "opaque" };
        },
      },
    },
  });
  const server = http.createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(E2E_OAUTH.port, "127.0.0.1", () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
