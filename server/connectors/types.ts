/**
 * The adapter contract every source type goes through (DESIGN.md "Connectors", issue 4).
 * The pipeline maps failures to statuses: network/timeout/egress_refused → NETWORK_BLOCKED,
 * auth → AWAITING_CREDENTIALS, anything else → ERROR (before reachability) or HEALING (after).
 */
import type { Result } from "../lib/result";
import type { BlockedDestination, DestinationGrant } from "./safe-mode/destinations";

export type FailureKind =
  | "network" // DNS, TCP, TLS failures, connection refused/reset
  | "timeout" // the source did not answer within the Safe Mode timeout
  | "egress_refused" // the egress guard refused the address (SSRF protection)
  | "not_approved" // the destination is neither a vendor host of the catalog entry nor approved by the tenant
  | "auth" // 401/403, wrong password, expired token
  | "rate_limited" // 429 storm, breaker open
  | "unsupported" // the source type or an operation is not supported
  | "safe_mode" // Safe Mode refused the operation (write, DDL, forbidden method…)
  | "too_large" // response byte cap exceeded
  | "other";

export type ConnectorFailure = {
  kind: FailureKind;
  message: string;
  /** for not_approved: the destination an admin could approve */
  destination?: BlockedDestination;
};
export type ConnectorResult<T> = Result<T, ConnectorFailure>;

export type FieldInfo = { name: string; type: string; nullable?: boolean };
export type StreamInfo = { name: string; fields: FieldInfo[] };
/**
 * What discovery found of one named resource (an intent's resource id, or a config field that names
 * one): ACTIVE needs every one found (issue 10 item 7). `absent`: not there (it may appear later);
 * `not_visible`: there, but the credential may not see it.
 */
export type NamedResourceCheck = { id: string; kind: string; found: boolean; reason?: "absent" | "not_visible"; detail?: string };
/** `resources`: set by drivers that check named resources; absent = this driver does not check them */
export type DiscoveredSchema = { streams: StreamInfo[]; resources?: NamedResourceCheck[] };
export type SampleRecord = { stream: string; data: Record<string, unknown> };
export type HealthInfo = { latencyMs: number; detail?: string };

/** Safe Mode knobs for one connection (from settings; defaults in safe-mode). */
export type SafetyPolicy = {
  maxRecords: number; // ≤ 20
  requestTimeoutMs: number;
  ratePerMinute: number;
  maxResponseBytes: number;
};

export type ConnectorContext = {
  connectionId: string;
  /** the connection's organisation: what one tenant's failures may affect (the HTTP circuit breaker is per tenant and host) */
  tenantId?: string;
  sourceType: string;
  resourceIds: string[];
  /** non-secret settings from the intent (host, region, instance URL…) */
  config: Record<string, unknown>;
  /** resolved secret fields (token, password, dsn, client_id…); never logged */
  secret: Record<string, string>;
  policy: SafetyPolicy;
  /** where this connection may connect (catalog hosts, approved destinations, sandboxes): safe-mode/destinations.ts */
  destinations: DestinationGrant;
  signal?: AbortSignal;
};

/**
 * One onboarding attempt's session with the source (`SourceAdapter.openAttempt`): health check,
 * discovery and sample over ONE connection, under the same Safe Mode rules as the standalone
 * calls. `sample` with no streams uses what `discover` found (it never discovers twice).
 * `close` is idempotent, settles promptly (it is awaited) and is also what an aborted
 * `ctx.signal` leads to: the connection is closed, whatever is in flight fails.
 */
export interface AttemptSource {
  healthCheck(): Promise<ConnectorResult<HealthInfo>>;
  discover(): Promise<ConnectorResult<DiscoveredSchema>>;
  sample(schema: DiscoveredSchema): Promise<ConnectorResult<SampleRecord[]>>;
  close(): Promise<void>;
}

export interface SourceAdapter {
  healthCheck(ctx: ConnectorContext): Promise<ConnectorResult<HealthInfo>>;
  /** metadata only: streams/tables/objects with fields and types; never row data */
  discover(ctx: ConnectorContext): Promise<ConnectorResult<DiscoveredSchema>>;
  /** a bounded read: at most ctx.policy.maxRecords (≤ 20) records across all streams */
  sample(ctx: ConnectorContext, schema: DiscoveredSchema): Promise<ConnectorResult<SampleRecord[]>>;
  /**
   * Optional: opens one session for a whole attempt (connecting is part of it, so a failure here
   * is a health-check failure). Adapters without it are called stage by stage.
   */
  openAttempt?(ctx: ConnectorContext): Promise<ConnectorResult<AttemptSource>>;
}
