/**
 * A kept-alive socket serves only requests whose egress check approved its address
 * (server/connectors/safe-mode/http.ts). Found in the trust-boundary audit: Node pools sockets by
 * host and port, so a name that resolved to 127.0.0.1 for one tenant (whose grant approves it) and
 * to 127.0.0.2 for another (whose grant approves only that) handed the first tenant's socket to the
 * second — its credential reached an address its own grant never approved.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const answer = { address: "127.0.0.1" };
vi.mock("node:dns/promises", async (orig) => {
  const real = await orig<typeof import("node:dns/promises")>();
  // the name's answer changes between the two requests (rebinding, or two views of one name)
  const lookup = async () => [{ address: answer.address, family: 4 }];
  return { ...real, lookup, default: { ...real, lookup } };
});

const { createSafeHttp } = await import("../../server/connectors/safe-mode/http");
const { makePolicy } = await import("../../server/connectors/safe-mode/policy");

const seen: { server: string; authorization: string | undefined }[] = [];
const servers: http.Server[] = [];
const connections: Record<string, number> = { "127.0.0.1": 0, "127.0.0.2": 0 };
let port = 0;

beforeAll(async () => {
  for (const host of ["127.0.0.1", "127.0.0.2"]) {
    const s = http.createServer((req, res) => {
      seen.push({ server: host, authorization: req.headers.authorization });
      res.writeHead(200, { "content-type": "application/json", connection: "keep-alive" });
      res.end("{}");
    });
    s.on("connection", () => connections[host]!++);
    await new Promise<void>((r) => s.listen(port, host, r));
    port = (s.address() as AddressInfo).port;
    servers.push(s);
  }
});
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

const ctxOf = (tenant: string, cidr: string, token: string) => ({
  connectionId: `c-${tenant}`,
  tenantId: tenant,
  sourceType: "openapi",
  resourceIds: [],
  config: {},
  secret: { token },
  policy: makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 3_000 }),
  destinations: { catalogHosts: [], hosts: [{ pattern: cidr, ports: [], sourceTypes: [], origin: "approved" as const }], folders: [], forbiddenFolders: [] },
});

describe("keep-alive sockets and the vetted address", () => {
  it("a socket opened for one grant's address is not reused for a request vetted for another address of the same name", async () => {
    const safe = createSafeHttp({ retries: 0 });
    const url = `http://rebind.test:${port}/items`;
    answer.address = "127.0.0.1";
    const a = await safe.fetch(ctxOf("tenant-a", "127.0.0.1/32", "tokA-secret-value") as never, { method: "GET", url, headers: { authorization: "Bearer tokA-secret-value" } });
    expect(a.ok).toBe(true);
    answer.address = "127.0.0.2";
    const b = await safe.fetch(ctxOf("tenant-b", "127.0.0.2/32", "tokB-secret-value") as never, { method: "GET", url, headers: { authorization: "Bearer tokB-secret-value" } });
    expect(b.ok).toBe(true);
    expect(seen).toEqual([
      { server: "127.0.0.1", authorization: "Bearer tokA-secret-value" },
      { server: "127.0.0.2", authorization: "Bearer tokB-secret-value" },
    ]);
    // the same address again reuses its socket (keep-alive still works)
    const again = await safe.fetch(ctxOf("tenant-b", "127.0.0.2/32", "tokB-secret-value") as never, { method: "GET", url, headers: { authorization: "Bearer tokB-secret-value" } });
    expect(again.ok).toBe(true);
    expect(seen.at(-1)).toEqual({ server: "127.0.0.2", authorization: "Bearer tokB-secret-value" });
    expect(connections).toEqual({ "127.0.0.1": 1, "127.0.0.2": 1 });
  });
});
