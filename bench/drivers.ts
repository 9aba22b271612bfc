/**
 * The per-driver cases of `npm run bench`: for postgres, mysql/mariadb (jdbc), s3 (s3rver),
 * filesource and the declarative REST driver (the HTTP sandbox's GitHub), the intent the REST
 * path onboards, the destination the bench tenant approves for it, the `env:AAM_SECRET_…`
 * secret it resolves — and the FLOOR: the minimal same protocol work with the raw client, in
 * this process: connect once, health, metadata discovery, a 20-record sample.
 *
 * What each floor does (and what the driver does today, for the README's ratios):
 *  - postgres: one pg connection; `BEGIN READ ONLY; SET LOCAL statement_timeout` (one simple
 *    query), `SELECT 1, version`, ONE pg_catalog query for tables and columns, a sample
 *    `SELECT * … LIMIT n` per table (7+7+6 rows), COMMIT.
 *  - mysql: one mysql2 connection; `START TRANSACTION READ ONLY`, `SELECT 1, VERSION()`, ONE
 *    information_schema query for tables and columns (the tables' rows UNION ALL the columns'
 *    rows, each filtered on the schema: MariaDB answers a JOIN of tables and columns several
 *    times slower, as it cannot look the joined side up by schema), a sample per table, COMMIT.
 *  - s3: one S3Client (keep-alive agent): HeadBucket, ListObjectsV2, one ranged GET of each
 *    object's head (≤ 256 KiB) that serves both the field inference and the 20-record sample.
 *  - filesource: realpath + readdir of the root, one read of each named file's head (≤ 256 KiB)
 *    for both discovery and sample.
 *  - rest (GitHub): one keep-alive HTTP connection; GET /user, then one page of 10 per stream
 *    (repos, members) whose records give both the inferred fields and the sample.
 */
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { parse as parseCsv } from "csv-parse/sync";
import mysql from "mysql2/promise";
import pg from "pg";
import { ensurePostgresSandbox } from "../server/connectors/sandbox/postgres-sandbox";
import type { NewDestination } from "../server/onboarding/destination-repository";

export type S3Info = { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };

export type DriverCase = {
  /** row label */
  name: string;
  sourceType: string;
  /** source requests / round trips of the floor, for the table */
  floorWork: string;
  intent: () => Record<string, unknown>;
  /** runs the floor once; returns the records read (checked: 20) */
  floor: () => Promise<number>;
};

export type DriverSetup = { cases: DriverCase[]; secrets: Record<string, string>; destinations: NewDestination[]; close: () => Promise<void> };

const FILES_DIR = path.resolve(import.meta.dirname, "..", "seeds", "sandbox", "files");
const SAMPLE = 20;
const HEAD_BYTES = 256 * 1024;

const baseIntent = (sourceType: string, resourceIds: string[], locator: string, config: Record<string, unknown>) => ({
  source_type: sourceType,
  resource_ids: resourceIds,
  scopes_mode: "safe_readonly",
  credential_locator: locator,
  namespace: "autonomy",
  risk_level: "low",
  evidence: { status: "Sanctioned", source: "CMDB", ts: new Date().toISOString() },
  owner: { user: "bench@example.com", confidence: 0.9, why: "bench" },
  config,
});

/** 20 records spread over `n` streams: 7, 7, 6 for three. */
const shares = (n: number) => Array.from({ length: n }, (_, i) => Math.floor(SAMPLE / n) + (i < SAMPLE % n ? 1 : 0));

function parseHead(name: string, text: string, limit: number): Record<string, unknown>[] {
  if (name.endsWith(".csv")) return (parseCsv(text, { columns: true, to: limit, relax_column_count: true }) as Record<string, unknown>[]).slice(0, limit);
  if (name.endsWith(".ndjson") || name.endsWith(".jsonl")) {
    return text.split("\n").filter((l) => l.trim()).slice(0, limit).map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  const v = JSON.parse(text) as unknown;
  const rows = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>).find(Array.isArray) ?? [v];
  return (rows as Record<string, unknown>[]).slice(0, limit);
}

// --------------------------------------------------------------------------- MariaDB fixture

async function createMysqlFixture(database: string): Promise<void> {
  const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", multipleStatements: true });
  try {
    await c.query(`CREATE DATABASE \`${database}\``);
    await c.query(`USE \`${database}\`;
      CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200) NOT NULL, country CHAR(2), created_at DATETIME NOT NULL);
      CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(20) NOT NULL, total DECIMAL(10,2) NOT NULL, placed_at DATETIME NOT NULL);
      CREATE TABLE tickets (id INT PRIMARY KEY, customer_id INT, subject VARCHAR(200) NOT NULL, priority VARCHAR(10) NOT NULL, open BOOLEAN NOT NULL DEFAULT TRUE);`);
    const rows = (n: number, f: (i: number) => unknown[]) => Array.from({ length: n }, (_, k) => f(k + 1));
    await c.query("INSERT INTO customers VALUES ?", [rows(50, (i) => [i, `Customer ${i}`, `customer${i}@example.com`, ["GB", "US", "NL", "FR", "DE"][i % 5], new Date(Date.UTC(2024, 0, 1 + i * 3))])]);
    await c.query("INSERT INTO orders VALUES ?", [rows(80, (i) => [i, 1 + (i % 50), ["paid", "shipped", "refunded", "pending"][i % 4], 5 + ((i * 37) % 900), new Date(Date.UTC(2025, 0, 1, i * 5))])]);
    await c.query("INSERT INTO tickets VALUES ?", [rows(40, (i) => [i, 1 + ((i * 7) % 50), `Ticket ${i}`, ["low", "normal", "high"][i % 3], i % 4 !== 0])]);
  } finally {
    await c.end();
  }
}

// --------------------------------------------------------------------------- setup

export async function setupDrivers(opts: { benchDbUrl: string; tag: string; github: string; githubToken: string; s3: S3Info }): Promise<DriverSetup> {
  const pgUrl = (await ensurePostgresSandbox(opts.benchDbUrl)).url;
  const pgPort = Number(new URL(pgUrl).port || 5432);
  const mysqlDb = `aam_bench_${opts.tag}`;
  await createMysqlFixture(mysqlDb);
  const mysqlUrl = `mysql://root@127.0.0.1:3306/${mysqlDb}`;
  const s3Port = Number(new URL(opts.s3.endpoint).port);
  const ghPort = Number(new URL(opts.github).port);
  const filesRoot = await fs.realpath(FILES_DIR);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  const secrets = {
    AAM_SECRET_BENCH_PG: pgUrl,
    AAM_SECRET_BENCH_MYSQL: mysqlUrl,
    AAM_SECRET_BENCH_S3: JSON.stringify({ access_key_id: opts.s3.accessKeyId, secret_access_key: opts.s3.secretAccessKey }),
    AAM_SECRET_BENCH_FILES: "local-files",
    AAM_SECRET_BENCH_GITHUB: opts.githubToken,
  };
  const destinations: NewDestination[] = [
    { kind: "host", pattern: "127.0.0.1", ports: [pgPort], sourceTypes: ["postgres"], note: "bench: PostgreSQL sandbox schema" },
    { kind: "host", pattern: "127.0.0.1", ports: [3306], sourceTypes: ["jdbc"], note: "bench: MariaDB" },
    { kind: "host", pattern: "127.0.0.1", ports: [s3Port], sourceTypes: ["s3_compat"], note: "bench: s3rver" },
    { kind: "host", pattern: "127.0.0.1", ports: [ghPort], sourceTypes: ["github"], note: "bench: HTTP sandbox" },
    { kind: "folder", pattern: filesRoot, ports: [], sourceTypes: ["filesource"], note: "bench: sandbox files" },
  ];

  const pgFloor = async (): Promise<number> => {
    const c = new pg.Client({ connectionString: pgUrl, application_name: "aam-bench-floor" });
    await c.connect();
    try {
      await c.query("BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = 10000");
      await c.query("SELECT 1 AS ok, current_setting('server_version') AS version");
      const cols = await c.query<{ table_name: string; column_name: string }>(
        `SELECT c.relname AS table_name, a.attname AS column_name, pg_catalog.format_type(a.atttypid, NULL) AS data_type, NOT a.attnotnull AS nullable
         FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY ($1::text[]) AND c.relkind = ANY ('{r,v,f,p,m}'::"char"[]) AND a.attnum > 0 AND NOT a.attisdropped
           AND pg_catalog.has_table_privilege(c.oid, 'SELECT') ORDER BY c.relname, a.attnum`,
        [["sandbox"]],
      );
      const tables = [...new Set(cols.rows.map((r) => r.table_name))];
      let n = 0;
      for (const [i, t] of tables.entries()) n += (await c.query(`SELECT * FROM sandbox."${t}" LIMIT ${shares(tables.length)[i]}`)).rowCount ?? 0;
      await c.query("COMMIT");
      return n;
    } finally {
      await c.end();
    }
  };

  const mysqlFloor = async (): Promise<number> => {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", database: mysqlDb });
    try {
      await c.query("START TRANSACTION READ ONLY");
      await c.query("SELECT 1 AS ok, VERSION() AS version");
      const [catalog] = await c.execute(
        `SELECT 0 AS row_kind, table_name AS table_name, NULL AS column_name, NULL AS data_type, NULL AS is_nullable, 0 AS ordinal_position
         FROM information_schema.tables WHERE table_schema = ? AND table_type IN ('BASE TABLE', 'VIEW')
         UNION ALL SELECT 1, table_name, column_name, data_type, is_nullable, ordinal_position FROM information_schema.columns WHERE table_schema = ?
         ORDER BY row_kind, table_name, ordinal_position`,
        [mysqlDb, mysqlDb],
      );
      const tables = (catalog as { row_kind: number; table_name: string }[]).filter((r) => Number(r.row_kind) === 0).map((r) => r.table_name);
      let n = 0;
      for (const [i, t] of tables.entries()) n += ((await c.query(`SELECT * FROM \`${t}\` LIMIT ${shares(tables.length)[i]}`))[0] as unknown[]).length;
      await c.query("COMMIT");
      return n;
    } finally {
      await c.end();
    }
  };

  const s3Floor = async (): Promise<number> => {
    const client = new S3Client({
      region: "us-east-1",
      endpoint: opts.s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: opts.s3.accessKeyId, secretAccessKey: opts.s3.secretAccessKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: 1 }) },
    });
    try {
      await client.send(new HeadBucketCommand({ Bucket: opts.s3.bucket }));
      const list = await client.send(new ListObjectsV2Command({ Bucket: opts.s3.bucket, MaxKeys: 1000 }));
      const keys = (list.Contents ?? []).map((o) => o.Key!).filter((k) => /\.(csv|json|ndjson)$/.test(k));
      let n = 0;
      for (const [i, key] of keys.entries()) {
        const r = await client.send(new GetObjectCommand({ Bucket: opts.s3.bucket, Key: key, Range: `bytes=0-${HEAD_BYTES - 1}` }));
        n += parseHead(key, await r.Body!.transformToString(), shares(keys.length)[i]!).length;
      }
      return n;
    } finally {
      client.destroy();
    }
  };

  const fileNames = ["customers.csv", "orders.json", "events.ndjson"];
  const filesFloor = async (): Promise<number> => {
    const root = await fs.realpath(filesRoot);
    await fs.readdir(root);
    let n = 0;
    for (const [i, name] of fileNames.entries()) {
      const fh = await fs.open(path.join(root, name), "r");
      try {
        const buf = Buffer.alloc(Math.min(HEAD_BYTES, (await fh.stat()).size));
        await fh.read(buf, 0, buf.length, 0);
        n += parseHead(name, buf.toString("utf8"), shares(fileNames.length)[i]!).length;
      } finally {
        await fh.close();
      }
    }
    return n;
  };

  const get = (url: string) =>
    new Promise<unknown>((resolve, reject) => {
      const req = http.get(url, { agent, headers: { authorization: `Bearer ${opts.githubToken}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`))));
      });
      req.on("error", reject);
    });
  const restFloor = async (): Promise<number> => {
    await get(`${opts.github}/user`);
    const repos = (await get(`${opts.github}/orgs/acme/repos?type=all&sort=updated&per_page=10`)) as unknown[];
    const members = (await get(`${opts.github}/orgs/acme/members?per_page=10`)) as unknown[];
    return Math.min(SAMPLE, repos.slice(0, 10).length + members.slice(0, 10).length);
  };

  const cases: DriverCase[] = [
    { name: "postgres", sourceType: "postgres", floorWork: "1 connect, 6 queries", intent: () => baseIntent("postgres", ["sandbox"], "env:AAM_SECRET_BENCH_PG", { schemas: ["sandbox"] }), floor: pgFloor },
    { name: "mysql (mariadb)", sourceType: "jdbc", floorWork: "1 connect, 6 queries", intent: () => baseIntent("jdbc", [mysqlDb], "env:AAM_SECRET_BENCH_MYSQL", {}), floor: mysqlFloor },
    { name: "s3 (s3rver)", sourceType: "s3_compat", floorWork: "1 socket, 2 + 1/object requests", intent: () => baseIntent("s3_compat", [opts.s3.bucket], "env:AAM_SECRET_BENCH_S3", { endpoint: opts.s3.endpoint, region: "us-east-1" }), floor: s3Floor },
    { name: "filesource", sourceType: "filesource", floorWork: "1 readdir, 3 file reads", intent: () => baseIntent("filesource", fileNames, "env:AAM_SECRET_BENCH_FILES", { root: filesRoot }), floor: filesFloor },
    { name: "rest (github)", sourceType: "github", floorWork: "1 socket, 3 GETs", intent: () => baseIntent("github", ["acme"], "env:AAM_SECRET_BENCH_GITHUB", { base_url: opts.github, org: "acme" }), floor: restFloor },
  ];

  return {
    cases,
    secrets,
    destinations,
    close: async () => {
      agent.destroy();
      const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root" });
      await c.query(`DROP DATABASE IF EXISTS \`${mysqlDb}\``).finally(() => c.end());
    },
  };
}
