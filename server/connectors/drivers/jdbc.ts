/**
 * JDBC-style sources: the URL scheme picks the wire driver (jdbc:postgresql / postgres(ql) /
 * jdbc:redshift → pg; jdbc:mysql / jdbc:mariadb / mysql / mariadb → mysql2). Both go through
 * the same SQL guard. Without a URL, `config.engine` names the engine.
 */
import { err } from "../../lib/result";
import { connectionUrlOf } from "../safe-mode/sql-target";
import type { AttemptSource, ConnectorContext, ConnectorResult, SourceAdapter } from "../types";
import { mysqlAdapter } from "./mysql";
import { postgresAdapter } from "./postgres";

const BY_SCHEME: Record<string, SourceAdapter> = {
  postgresql: postgresAdapter,
  postgres: postgresAdapter,
  redshift: postgresAdapter,
  mysql: mysqlAdapter,
  mariadb: mysqlAdapter,
};

export function jdbcEngineOf(ctx: Pick<ConnectorContext, "secret" | "config">): string | undefined {
  const url = connectionUrlOf(ctx);
  if (url) return /^(?:jdbc:)?([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  return typeof ctx.config.engine === "string" ? ctx.config.engine.toLowerCase() : undefined;
}

function pick(ctx: ConnectorContext): ConnectorResult<SourceAdapter> {
  const engine = jdbcEngineOf(ctx);
  const adapter = engine ? BY_SCHEME[engine] : undefined;
  if (!adapter) {
    return err({ kind: "unsupported", message: engine ? `JDBC engine "${engine}" is not supported (PostgreSQL, MySQL and MariaDB are)` : "no JDBC URL and no config.engine" });
  }
  return { ok: true, value: adapter };
}

export const jdbcAdapter: SourceAdapter = {
  healthCheck: async (ctx) => {
    const a = pick(ctx);
    return a.ok ? a.value.healthCheck(ctx) : a;
  },
  discover: async (ctx) => {
    const a = pick(ctx);
    return a.ok ? a.value.discover(ctx) : a;
  },
  sample: async (ctx, schema) => {
    const a = pick(ctx);
    return a.ok ? a.value.sample(ctx, schema) : a;
  },
  /** the engine's one-connection attempt (both wire drivers have one) */
  openAttempt: async (ctx) => {
    const a = pick(ctx);
    if (!a.ok) return a;
    const adapter = a.value;
    if (adapter.openAttempt) return adapter.openAttempt(ctx);
    const stageByStage: AttemptSource = {
      healthCheck: () => adapter.healthCheck(ctx),
      discover: () => adapter.discover(ctx),
      sample: (schema) => adapter.sample(ctx, schema),
      close: async () => undefined,
    };
    return { ok: true, value: stageByStage };
  },
};
