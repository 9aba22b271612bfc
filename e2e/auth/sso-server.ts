/**
 * The OpenID Connect issuer the SSO spec signs in with (an Okta/Entra stand-in): oidc-provider
 * 8.8.1 on a fixed port, one client for the app, accounts `<login>@e2e.test`. Its development
 * login and consent pages are what Chromium clicks through.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
// @ts-expect-error oidc-provider 8.x ships no type declarations
import ProviderCtor from "oidc-provider";
import { E2E_SSO } from "../../playwright.config";

export async function startSsoIssuer(): Promise<{ close: () => Promise<void> }> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const provider = new ProviderCtor(E2E_SSO.issuer, {
    clients: [{ client_id: E2E_SSO.clientId, client_secret: E2E_SSO.clientSecret, redirect_uris: [E2E_SSO.redirectUri], grant_types: ["authorization_code"], response_types: ["code"] }],
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), use: "sig", kid: "sso", alg: "RS256" }] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@e2e.test`, email_verified: true, name: `SSO ${sub}` }),
    }),
    pkce: { methods: ["S256"], required: () => true },
    features: { devInteractions: { enabled: true } },
    // put the email in the ID token (what Okta and Entra do for the email scope)
    conformIdTokenClaims: false,
  });
  const server = http.createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(E2E_SSO.port, "127.0.0.1", () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
