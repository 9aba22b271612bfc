/**
 * A real OAuth 2.0 / OIDC authorization server for tests: oidc-provider 8.8.1 on node:http.
 *  - a confidential client for client_credentials (service principals, `sp:` locators);
 *  - a confidential client for authorization code + PKCE with refresh tokens (admin consent).
 * Custom read-only scopes such as `files.read` reach access tokens only through
 * features.resourceIndicators, so one resource server is configured that offers them.
 * Interactions (login/consent pages) can be finished automatically for browserless tests.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
// @ts-expect-error oidc-provider 8.x ships no type declarations
import ProviderCtor from "oidc-provider";

export const RESOURCE_SCOPES = ["files.read", "records.read"] as const;

export type InteractionMode = "manual" | "approve" | "deny";

export type OAuthServerOptions = {
  redirectUri?: string;
  /** access token lifetime for client_credentials and code flow tokens, seconds */
  accessTokenTtl?: number;
  /** how /interaction/:uid is answered: the provider's own pages, or finished at once */
  interactions?: InteractionMode;
  /** the account signed in when interactions are approved automatically */
  accountId?: string;
};

export type OAuthServer = {
  issuer: string;
  tokenUrl: string;
  authorizeUrl: string;
  /** the resource indicator whose scopes (files.read, records.read) land in access tokens */
  resource: string;
  serviceClient: { clientId: string; clientSecret: string };
  consentClient: { clientId: string; clientSecret: string; redirectUri: string };
  setInteractions(mode: InteractionMode): void;
  /** token endpoint requests seen so far (counts cache hits in tests) */
  tokenRequests(): number;
  /** the oidc-provider instance, for tests that drive interactions themselves */
  provider: OidcProvider;
  close(): Promise<void>;
};

/** The small part of oidc-provider's API these helpers use. */
export type OidcProvider = {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<{
    uid: string;
    prompt: { name: string; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId?: string };
    grantId?: string;
  }>;
  interactionFinished(req: http.IncomingMessage, res: http.ServerResponse, result: Record<string, unknown>, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: GrantCtor;
  on(event: string, fn: (...args: unknown[]) => void): void;
};
type GrantInstance = {
  addOIDCScope(s: string): void;
  addOIDCClaims(c: string[]): void;
  addResourceScope(resource: string, s: string): void;
  save(): Promise<string>;
};
type GrantCtor = { new (init: { accountId: string; clientId: string }): GrantInstance; find(id: string): Promise<GrantInstance | undefined> };

export async function startOAuthServer(opts: OAuthServerOptions = {}): Promise<OAuthServer> {
  let handler: http.RequestListener = (_req, res) => res.writeHead(503).end();
  let mode: InteractionMode = opts.interactions ?? "manual";
  let tokenRequests = 0;
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const resource = "urn:aam:test-api";
  const serviceClient = { clientId: "aam-service", clientSecret: randomBytes(24).toString("base64url") };
  const consentClient = { clientId: "aam-consent", clientSecret: randomBytes(24).toString("base64url"), redirectUri: opts.redirectUri ?? "http://127.0.0.1:3000/api/oauth/callback" };
  const ttl = opts.accessTokenTtl ?? 3600;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

  const provider: OidcProvider = new ProviderCtor(issuer, {
    clients: [
      { client_id: serviceClient.clientId, client_secret: serviceClient.clientSecret, grant_types: ["client_credentials"], redirect_uris: [], response_types: [], scope: RESOURCE_SCOPES.join(" ") },
      {
        client_id: consentClient.clientId,
        client_secret: consentClient.clientSecret,
        grant_types: ["authorization_code", "refresh_token"],
        redirect_uris: [consentClient.redirectUri],
        response_types: ["code"],
        scope: ["openid", "offline_access", ...RESOURCE_SCOPES].join(" "),
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), use: "sig", kid: "test", alg: "RS256" }] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    scopes: ["openid", "offline_access", ...RESOURCE_SCOPES],
    pkce: { methods: ["S256"], required: () => true },
    // Refresh tokens without demanding the offline_access scope, as SaaS providers do.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed("refresh_token"),
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    ttl: { AccessToken: ttl, ClientCredentials: ttl, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, RefreshToken: 86400 },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new Error(`unknown resource ${indicator}`);
          return { scope: RESOURCE_SCOPES.join(" "), audience: resource, accessTokenTTL: ttl, accessTokenFormat: "opaque" };
        },
      },
    },
  });

  async function finishInteraction(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (mode === "deny") {
      await provider.interactionFinished(req, res, { error: "access_denied", error_description: "End-User aborted interaction" }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === "login") {
      await provider.interactionFinished(req, res, { login: { accountId: opts.accountId ?? "admin@example.com" } }, { mergeWithLastSubmission: false });
      return;
    }
    const accountId = details.session?.accountId ?? opts.accountId ?? "admin@example.com";
    const grant = (details.grantId && (await provider.Grant.find(details.grantId))) || new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(" "));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(" "));
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }

  const callback = provider.callback();
  handler = (req, res) => {
    const path = new URL(req.url ?? "/", issuer).pathname;
    if (path === "/token" && req.method === "POST") tokenRequests += 1;
    if (mode !== "manual" && req.method === "GET" && /^\/interaction\/[^/]+$/.test(path)) {
      finishInteraction(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String((e as Error)?.message ?? e));
      });
      return;
    }
    callback(req, res);
  };

  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    authorizeUrl: `${issuer}/auth`,
    resource,
    serviceClient,
    consentClient,
    setInteractions: (m) => void (mode = m),
    tokenRequests: () => tokenRequests,
    provider,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
