/**
 * Integration: the postgres driver against the real PostgreSQL from DATABASE_URL, using the
 * sandbox schema and its read-only role.
 */
import { NO_DESTINATIONS } from "../safe-mode/destinations";
import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { testDatabaseUrl } from "../../../tests/helpers/db";
import { closedPort, ctxFor, withUrl } from "../../../tests/connectors/native/ctx";
import { ensurePostgresSandbox } from "../sandbox/postgres-sandbox";
import type { ConnectorFailure } from "../types";
import { jdbcAdapter } from "./jdbc";
import { mapPgError, postgresAdapter } from "./postgres";

let adminUrl: string;
let sandboxUrl: string;
const probe = `aam_guard_probe_${randomBytes(4).toString("hex")}`;
const writer = `aam_probe_write_${randomBytes(4).toString("hex")}`;
const writerView = `${writer}_v`;
const slow = `aam_probe_slow_${randomBytes(4).toString("hex")}`;
const wide = `aam_probe_wide_${randomBytes(4).toString("hex")}`;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
const probeCount = () => admin(async (c) => Number((await c.query(`SELECT count(*) AS n FROM public.${probe}`)).rows[0].n));
const failureOf = (r: { ok: boolean; error?: ConnectorFailure }) => (r.ok ? undefined : r.error);

beforeAll(async () => {
  adminUrl = testDatabaseUrl();
  sandboxUrl = (await ensurePostgresSandbox(adminUrl)).url;
  await admin(async (c) => {
    await c.query(`CREATE TABLE public.${probe} (id int)`);
    await c.query(`INSERT INTO public.${probe} SELECT generate_series(1, 3)`);
    // A write hidden in a function: the lexical guard cannot see it, the READ ONLY transaction must.
    await c.query(`CREATE FUNCTION public.${writer}() RETURNS int LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.${probe} VALUES (99); RETURN 1; END $$`);
    await c.query(`CREATE VIEW public.${writerView} AS SELECT public.${writer}() AS x`);
    await c.query(`CREATE VIEW public.${slow} AS SELECT pg_sleep(5)::text AS x`);
    // 10 rows of 1 MB each (compressible: small on disk, 1 MB each on the wire)
    await c.query(`CREATE TABLE public.${wide} (id int, body text)`);
    await c.query(`INSERT INTO public.${wide} SELECT g, repeat('x', 1024 * 1024) FROM generate_series(1, 10) g`);
  });
});

afterAll(async () => {
  await admin(async (c) => {
    await c.query(`DROP VIEW IF EXISTS public.${writerView}`);
    await c.query(`DROP VIEW IF EXISTS public.${slow}`);
    await c.query(`DROP FUNCTION IF EXISTS public.${writer}()`);
    await c.query(`DROP TABLE IF EXISTS public.${probe}`);
    await c.query(`DROP TABLE IF EXISTS public.${wide}`);
  });
});

describe("sandbox", () => {
  it("is idempotent and its role can read but not write", async () => {
    const again = await ensurePostgresSandbox(adminUrl);
    expect(again.url).toBe(sandboxUrl);
    const c = new pg.Client({ connectionString: sandboxUrl });
    await c.connect();
    try {
      const counts = (await c.query("SELECT (SELECT count(*) FROM sandbox.customers) AS c, (SELECT count(*) FROM sandbox.orders) AS o, (SELECT count(*) FROM sandbox.tickets) AS t")).rows[0];
      expect(Number(counts.c)).toBeGreaterThan(20);
      expect(Number(counts.o)).toBeGreaterThan(20);
      expect(Number(counts.t)).toBeGreaterThan(20);
      expect((await c.query("SHOW default_transaction_read_only")).rows[0].default_transaction_read_only).toBe("on");
      await expect(c.query("INSERT INTO sandbox.tickets VALUES (9999, 1, 'x', 'low')")).rejects.toMatchObject({ code: "25006" });
      // Even with the session default lifted, the role has no INSERT privilege.
      await c.query("SET default_transaction_read_only = off");
      await expect(c.query("INSERT INTO sandbox.tickets VALUES (9999, 1, 'x', 'low')")).rejects.toMatchObject({ code: "42501" });
    } finally {
      await c.end();
    }
  });
});

describe("postgres driver", () => {
  it("passes health, discover and sample against the sandbox", async () => {
    const ctx = ctxFor("postgres", { secret: { dsn: sandboxUrl } });
    const h = await postgresAdapter.healthCheck(ctx);
    expect(h.ok && h.value.detail).toMatch(/^PostgreSQL \d+/);

    const d = await postgresAdapter.discover(ctx);
    if (!d.ok) throw new Error(d.error.message);
    const names = d.value.streams.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["sandbox.customers", "sandbox.orders", "sandbox.tickets"]));
    const customers = d.value.streams.find((s) => s.name === "sandbox.customers")!;
    expect(customers.fields).toContainEqual({ name: "id", type: "integer", nullable: false });
    expect(customers.fields).toContainEqual({ name: "created_at", type: "timestamp with time zone", nullable: false });
    expect(JSON.stringify(d.value)).not.toContain("customer1@example.com"); // metadata only

    const s = await postgresAdapter.sample(ctx, d.value);
    if (!s.ok) throw new Error(s.error.message);
    expect(s.value.length).toBe(20);
    expect(new Set(s.value.map((r) => r.stream))).toEqual(new Set(["sandbox.customers", "sandbox.orders", "sandbox.tickets"]));
    expect(s.value.find((r) => r.stream === "sandbox.customers")!.data).toMatchObject({ id: expect.any(Number), email: expect.stringContaining("@example.com") });
  });

  it("builds the connection from config host/port/database/user + secret password", async () => {
    const u = new URL(sandboxUrl);
    const ctx = ctxFor("postgres", {
      config: { host: u.hostname, port: u.port || 5432, database: u.pathname.slice(1), user: decodeURIComponent(u.username), schemas: ["sandbox"], max_tables: 2 },
      secret: { password: decodeURIComponent(u.password) },
    });
    const d = await postgresAdapter.discover(ctx);
    expect(d.ok && d.value.streams.map((s) => s.name)).toEqual(["sandbox.customers", "sandbox.orders"]);
  });

  it("never returns more than 20 records, even when the policy asks for 50", async () => {
    const ctx = ctxFor("postgres", { secret: { dsn: sandboxUrl }, resourceIds: ["sandbox.orders"], policy: { maxRecords: 50 } });
    const s = await postgresAdapter.sample(ctx, { streams: [] });
    expect(s.ok && s.value.length).toBe(20);
    const few = await postgresAdapter.sample(ctxFor("postgres", { secret: { dsn: sandboxUrl }, policy: { maxRecords: 5 } }), { streams: [{ name: "sandbox.orders", fields: [] }] });
    expect(few.ok && few.value.length).toBe(5);
  });

  it("maps a wrong user/password to auth", async () => {
    const r = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn: withUrl(adminUrl, { user: "aam_no_such_role", password: "wrong-password" }) } }));
    expect(failureOf(r)?.kind).toBe("auth");
  });

  it("never sends the server's own PGPASSWORD, PGUSER or ~/.pgpass login: a secret with no password sends an empty one", async () => {
    // found in the trust-boundary audit: pg fills an empty password from PGPASSWORD, then ~/.pgpass
    const asked: { password?: string; user?: string; database?: string }[] = [];
    const fake = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      let started = false;
      sock.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (!started && !sock.writableEnded && buf.length >= 8) {
          const len = buf.readInt32BE(0);
          if (buf.length < len) return;
          if (buf.readInt32BE(4) === 80877103) {
            sock.write("N"); // no TLS: the client goes on in clear (loopback)
            buf = buf.subarray(len);
            return;
          }
          const fields = buf.subarray(8, len).toString("utf8").split("\0");
          const params: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]) params[fields[i]!] = fields[i + 1]!;
          asked.push({ user: params.user, database: params.database });
          started = true;
          buf = buf.subarray(len);
          sock.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
          return;
        }
        if (started && buf.length >= 5 && buf[0] === 0x70) {
          const len = buf.readInt32BE(1);
          if (buf.length < len + 1) return;
          started = false;
          asked[asked.length - 1]!.password = buf.subarray(5, len).toString("utf8").replace(/\0$/, "");
          const msg = Buffer.from("SFATAL\0C28P01\0Mpassword authentication failed\0\0");
          const head = Buffer.alloc(5);
          head[0] = 0x45;
          head.writeInt32BE(msg.length + 4, 1);
          sock.end(Buffer.concat([head, msg]));
          buf = Buffer.alloc(0);
        }
      });
      sock.on("error", () => undefined);
    });
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
    const port = (fake.address() as net.AddressInfo).port;
    // the server's own login, as pg would find it in this process's environment
    vi.stubEnv("PGPASSWORD", "product-own-db-password");
    vi.stubEnv("PGUSER", "product_owner");
    vi.stubEnv("PGDATABASE", "product_db");
    try {
      // a secret that holds no password (an S3 key bundle, say) and a user in config
      const r = await postgresAdapter.healthCheck(ctxFor("postgres", { config: { host: "127.0.0.1", port, user: "reporter" }, secret: { access_key_id: "AKIA0000", secret_access_key: "x".repeat(20) } }));
      expect(failureOf(r)?.kind).toBe("auth");
      expect(asked).toEqual([{ user: "reporter", database: "reporter", password: "" }]);
      // no user anywhere: refused before connecting, never the process's PGUSER
      const none = await postgresAdapter.healthCheck(ctxFor("postgres", { config: { host: "127.0.0.1", port }, secret: { password: "p" } }));
      expect(failureOf(none)).toMatchObject({ kind: "auth", message: expect.stringContaining("no database user") });
      expect(asked).toHaveLength(1);
    } finally {
      vi.unstubAllEnvs();
      await new Promise((r) => fake.close(r));
    }
  });

  it("maps a closed port and an unknown host to network", async () => {
    const closed = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn: withUrl(adminUrl, { host: "127.0.0.1", port: await closedPort() }) } }));
    expect(failureOf(closed)?.kind).toBe("network");
    const unknown = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn: withUrl(adminUrl, { host: "no-such-host.invalid" }) } }));
    expect(failureOf(unknown)?.kind).toBe("network");
  });

  it("maps a query beyond the statement timeout to timeout", async () => {
    // a view that sleeps: the generated SELECT * FROM "public"."<view>" LIMIT n runs into the timeout
    const ctx = ctxFor("postgres", { secret: { dsn: adminUrl }, policy: { requestTimeoutMs: 300 } });
    const r = await postgresAdapter.sample(ctx, { streams: [{ name: `public.${slow}`, fields: [] }] });
    expect(failureOf(r)).toMatchObject({ kind: "timeout", message: expect.stringContaining("57014") });
  });

  it("refuses the metadata endpoint and hosts that are not approved destinations", async () => {
    const meta = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn: withUrl(adminUrl, { host: "169.254.169.254" }) } }));
    // metadata is refused outright (never approvable), not offered for approval
    expect(failureOf(meta)?.kind).toBe("egress_refused");
    const priv = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn: withUrl(adminUrl, { host: "127.0.0.1" }) }, destinations: NO_DESTINATIONS }));
    expect(failureOf(priv)?.kind).toBe("not_approved");
    const socket = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn: `${adminUrl}${adminUrl.includes("?") ? "&" : "?"}host=/var/run/postgresql` } }));
    expect(failureOf(socket)?.kind).toBe("egress_refused");
  });

  it("cuts the sample at the byte cap server-side: rows past maxResponseBytes are never sent", async () => {
    let received = 0;
    const counting = new pg.Client({ connectionString: adminUrl });
    await counting.connect();
    try {
      // what the guarded read sends back, measured on the wire of a plain client
      const { runPostgresReadOnly } = await import("../safe-mode/sql-guard");
      counting.connection.stream.on("data", (b: Buffer) => (received += b.length));
      const rows = await runPostgresReadOnly(counting, `SELECT * FROM public.${wide} LIMIT 10`, { timeoutMs: 10_000, maxRows: 10, maxBytes: 2.5 * 1024 * 1024 });
      expect(rows.map((r) => r.id)).toEqual([1, 2]);
      expect(Object.keys(rows[0]!)).toEqual(["id", "body"]); // the running-size column is not returned
      expect(received).toBeLessThan(3 * 1024 * 1024);
    } finally {
      await counting.end();
    }
    // through the driver: the policy's cap bounds the whole sample
    const ctx = ctxFor("postgres", { secret: { dsn: adminUrl }, resourceIds: [`public.${wide}`], policy: { maxRecords: 10, maxResponseBytes: 3 * 1024 * 1024 } });
    const r = await postgresAdapter.sample(ctx, { streams: [] });
    expect(r.ok && r.value.length).toBe(2);
  });

  it("ignores config.sample_query: only generated statements run, the table is unchanged", async () => {
    const before = await probeCount();
    const ctx = ctxFor("postgres", { secret: { dsn: adminUrl }, resourceIds: [`public.${probe}`], config: { sample_query: `DELETE FROM public.${probe}` } });
    const r = await postgresAdapter.sample(ctx, { streams: [] });
    expect(r.ok && r.value.map((x) => x.stream)).toEqual([`public.${probe}`, `public.${probe}`, `public.${probe}`]);
    expect(await probeCount()).toBe(before);
  });

  it("a write hidden behind a view (a function the guard cannot see into) is stopped by the READ ONLY transaction", async () => {
    const before = await probeCount();
    const ctx = ctxFor("postgres", { secret: { dsn: adminUrl } });
    const r = await postgresAdapter.sample(ctx, { streams: [{ name: `public.${writerView}`, fields: [] }] });
    expect(failureOf(r)).toMatchObject({ kind: "safe_mode", message: expect.stringContaining("25006") });
    expect(await probeCount()).toBe(before);
  });

  it("reports a missing table as a kind plus SQLSTATE, never the server's text", async () => {
    const ctx = ctxFor("postgres", { secret: { dsn: adminUrl } });
    const r = await postgresAdapter.sample(ctx, { streams: [{ name: "public.aam_no_such_table_zz", fields: [] }] });
    expect(failureOf(r)).toEqual({ kind: "other", message: "PostgreSQL error (SQLSTATE 42P01 undefined_table)" });
  });

  it("error texts that echo values never reach users: the CAST trick's role names stay out (kind + SQLSTATE only)", async () => {
    const raw = await admin((c) => c.query("SELECT CAST((SELECT string_agg(rolname, ',') FROM pg_roles) AS int)").then(() => undefined, (e: unknown) => e));
    expect(String((raw as Error).message)).toContain("postgres"); // the server's own text does leak them…
    const mapped = mapPgError(raw);
    expect(mapped).toEqual({ kind: "other", message: "PostgreSQL error (SQLSTATE 22P02 invalid_text_representation)" });
    expect(mapped.message).not.toContain("postgres,");
    const auth = await postgresAdapter.healthCheck(ctxFor("postgres", { secret: { dsn: withUrl(adminUrl, { user: "aam_no_such_role", password: "wrong-password" }) } }));
    // trust auth here answers "role … does not exist" (28000); the role name is not echoed either way
    expect(failureOf(auth)).toMatchObject({ kind: "auth", message: expect.stringMatching(/^PostgreSQL refused the credentials \(SQLSTATE 28(P01 invalid_password|000 invalid_authorization_specification)\)$/) });
    expect(failureOf(auth)?.message).not.toContain("aam_no_such_role");
  });

  it("is reachable through the jdbc driver with a jdbc:postgresql URL", async () => {
    const u = new URL(sandboxUrl);
    const jdbcUrl = `jdbc:postgresql://${u.host}${u.pathname}?user=${u.username}`;
    const r = await jdbcAdapter.healthCheck(ctxFor("jdbc", { config: { url: jdbcUrl }, secret: { password: decodeURIComponent(u.password) } }));
    expect(r.ok && r.value.detail).toMatch(/^PostgreSQL/);
  });
});
