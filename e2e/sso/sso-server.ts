/**
 * The OpenID Connect issuer the SSO spec signs in with (an Okta/Entra stand-in): oidc-provider
 * 8.8.1 on a fixed port, one client for the app, accounts `<login>@e2e.test`. The login
 * `unverified` gets `email_verified: false`. Its development login and consent pages are what
 * Chromium clicks through.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
// @ts-expect-error oidc-provider 8.x ships no type declarations
import ProviderCtor from "oidc-provider";
import { E2E_SSO } from "../../playwright.config";

export type SsoIssuer = { close: () => Promise<void>; tokenRedirectUris: string[]; authorizeRedirectUris: string[] };

export async function startSsoIssuer(): Promise<SsoIssuer> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const provider = new ProviderCtor(E2E_SSO.issuer, {
    clients: [{ client_id: E2E_SSO.clientId, client_secret: E2E_SSO.clientSecret, redirect_uris: [E2E_SSO.redirectUri], grant_types: ["authorization_code"], response_types: ["code"] }],
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), use: "sig", kid: "sso", alg: "RS256" }] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@e2e.test`, email_verified: sub !== "unverified", name: `SSO ${sub}` }),
    }),
    pkce: { methods: ["S256"], required: () => true },
    features: { devInteractions: { enabled: true } },
    // put the email in the ID token (what Okta and Entra do for the email scope)
    conformIdTokenClaims: false,
  });
  const issuer: SsoIssuer = { tokenRedirectUris: [], authorizeRedirectUris: [], close: async () => undefined };
  const callback = provider.callback();
  const server = http.createServer((req, res) => {
    // record the redirect_uri of both requests: they must be the same string
    const url = new URL(req.url ?? "/", E2E_SSO.issuer);
    if (url.pathname === "/auth" && url.searchParams.get("redirect_uri")) issuer.authorizeRedirectUris.push(url.searchParams.get("redirect_uri")!);
    if (url.pathname === "/token" && req.method === "POST") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const uri = new URLSearchParams(body.toString("utf8")).get("redirect_uri");
        if (uri) issuer.tokenRedirectUris.push(uri);
        // hand oidc-provider the body it would have read itself
        (req as http.IncomingMessage & { body?: unknown }).body = body.toString("utf8");
        callback(req, res);
      });
      return;
    }
    callback(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(E2E_SSO.port, "127.0.0.1", () => resolve());
  });
  issuer.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return issuer;
}
