/** Test helpers for the native drivers: a ConnectorContext builder and a port nobody listens on. */
import { LOOPBACK_APPROVED } from "../../../server/connectors/safe-mode/test-destinations";
import type { DestinationGrant } from "../../../server/connectors/safe-mode/destinations";
import net from "node:net";
import { makePolicy } from "../../../server/connectors/safe-mode/policy";
import type { ConnectorContext, SafetyPolicy } from "../../../server/connectors/types";

let seq = 0;

export function ctxFor(
  sourceType: string,
  opts: { config?: Record<string, unknown>; secret?: Record<string, string>; resourceIds?: string[]; policy?: Partial<SafetyPolicy>; destinations?: DestinationGrant } = {},
): ConnectorContext {
  return {
    connectionId: `test-${sourceType}-${process.pid}-${++seq}`,
    sourceType,
    resourceIds: opts.resourceIds ?? [],
    config: opts.config ?? {},
    secret: opts.secret ?? {},
    // Spread after makePolicy so a test can ask for more than the ceiling (maxRecords: 50) and
    // prove the driver clamps it itself.
    policy: { ...makePolicy({ ratePerMinute: 60_000, requestTimeoutMs: 5_000 }), ...opts.policy },
    // loopback approved, as an admin would approve a local test server
    destinations: opts.destinations ?? LOOPBACK_APPROVED,
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound, then closed). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export function withUrl(url: string, change: { host?: string; port?: number | string; user?: string; password?: string; database?: string }): string {
  const u = new URL(url);
  if (change.host !== undefined) u.hostname = change.host;
  if (change.port !== undefined) u.port = String(change.port);
  if (change.user !== undefined) u.username = change.user;
  if (change.password !== undefined) u.password = change.password;
  if (change.database !== undefined) u.pathname = `/${change.database}`;
  return u.toString();
}
