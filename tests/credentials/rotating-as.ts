/**
 * A small OAuth 2.0 authorization server (node:http) with the strictest refresh policy seen in
 * the wild (OAuth 2.0 Security BCP §4.14, Okta/Auth0 "rotation + reuse detection"):
 *  - every refresh rotates the refresh token: the one sent is spent, a new one comes back;
 *  - a spent refresh token sent again revokes the whole grant: its access tokens and its
 *    current refresh token stop working, and the admin has to consent again.
 * Only the refresh_token grant with client_secret_post is served. Each refresh is answered after
 * `latencyMs` so that concurrent callers really overlap, or when a test releases a hold.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

type Grant = { id: string; revoked: boolean; refreshToken: string; accessTokens: Set<string> };

export type RotatingAuthServer = {
  issuer: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** a consented grant: its first access and refresh tokens */
  issueGrant(): { grantId: string; access_token: string; refresh_token: string };
  /** successful refreshes, rejected ones, and spent refresh tokens sent again (each revoked a grant) */
  stats(): { refreshes: number; rejected: number; reuses: number };
  /** whether the grant is still usable (not revoked) */
  grantActive(grantId: string): boolean;
  /** whether an access token would be accepted by the resource server */
  accessTokenActive(token: string): boolean;
  /** the refresh token the grant would accept now */
  currentRefreshToken(grantId: string): string | undefined;
  /** until the returned release() is called, refreshes wait before answering */
  hold(): () => void;
  close(): Promise<void>;
};

export async function startRotatingAuthServer(opts: { latencyMs?: number; expiresIn?: number } = {}): Promise<RotatingAuthServer> {
  const clientId = "aam-rotating";
  const clientSecret = randomBytes(24).toString("base64url");
  const grants = new Map<string, Grant>();
  const byRefresh = new Map<string, { grantId: string; spent: boolean }>();
  const stats = { refreshes: 0, rejected: 0, reuses: 0 };
  let held: Promise<void> | undefined;
  const token = (p: string) => `${p}-${randomBytes(12).toString("base64url")}`;

  const issueGrant = () => {
    const g: Grant = { id: token("grant"), revoked: false, refreshToken: token("rt"), accessTokens: new Set([token("at")]) };
    grants.set(g.id, g);
    byRefresh.set(g.refreshToken, { grantId: g.id, spent: false });
    return { grantId: g.id, access_token: [...g.accessTokens][0]!, refresh_token: g.refreshToken };
  };

  const json = (res: http.ServerResponse, status: number, body: object): void =>
    void res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));

  async function refresh(form: URLSearchParams, res: http.ServerResponse): Promise<void> {
    if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret) return json(res, 401, { error: "invalid_client" });
    if (form.get("grant_type") !== "refresh_token") return json(res, 400, { error: "unsupported_grant_type" });
    // decide synchronously on arrival, as a database-backed server would under its own lock
    const rt = byRefresh.get(form.get("refresh_token") ?? "");
    const g = rt && grants.get(rt.grantId);
    let answer: [number, object];
    if (!rt || !g) answer = [400, { error: "invalid_grant", error_description: "unknown refresh token" }];
    else if (rt.spent) {
      stats.reuses += 1;
      g.revoked = true;
      answer = [400, { error: "invalid_grant", error_description: "refresh token reused: grant revoked" }];
    } else if (g.revoked) answer = [400, { error: "invalid_grant", error_description: "grant revoked" }];
    else {
      rt.spent = true;
      g.refreshToken = token("rt");
      byRefresh.set(g.refreshToken, { grantId: g.id, spent: false });
      const at = token("at");
      g.accessTokens.add(at);
      stats.refreshes += 1;
      answer = [200, { access_token: at, token_type: "Bearer", expires_in: opts.expiresIn ?? 3600, refresh_token: g.refreshToken }];
    }
    if (answer[0] !== 200) stats.rejected += 1;
    await new Promise((r) => setTimeout(r, opts.latencyMs ?? 100));
    await held;
    json(res, answer[0], answer[1]);
  }

  const server = http.createServer((req, res) => {
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://x").pathname !== "/token") return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => void refresh(new URLSearchParams(Buffer.concat(chunks).toString("utf8")), res).catch(() => res.writeHead(500).end()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    clientId,
    clientSecret,
    issueGrant,
    stats: () => ({ ...stats }),
    grantActive: (id) => grants.get(id)?.revoked === false,
    accessTokenActive: (t) => [...grants.values()].some((g) => !g.revoked && g.accessTokens.has(t)),
    currentRefreshToken: (id) => grants.get(id)?.refreshToken,
    hold() {
      let release!: () => void;
      held = new Promise<void>((r) => (release = r));
      return () => {
        held = undefined;
        release();
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
