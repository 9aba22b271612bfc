/**
 * One "worker process" of the refresh race test: its own Prisma pool and its own resolvers.
 * argv[2] is a JSON job; prints `ready`, waits for a line on stdin (so every process starts
 * together), resolves the consent locator `n` times at once and prints the outcomes as JSON.
 */
import { createInterface } from "node:readline";
import { ok } from "../../server/lib/result";
import { createDb } from "../../server/db/client";
import { createCredentialResolver, parseEncryptionKey } from "../../server/credentials/resolver";

type Job = { databaseUrl: string; key: string; tenantId: string; provider: string; issuer: string; tokenUrl: string; clientId: string; clientSecret: string; n: number; nowMs: number };

const job = JSON.parse(process.argv[2]!) as Job;
const db = createDb(job.databaseUrl, 5);
const key = parseEncryptionKey(job.key);
const lookup = () => ok({ provider: job.provider, displayName: job.provider, authorizeUrl: `${job.issuer}/auth`, tokenUrl: job.tokenUrl, issuer: job.issuer, clientId: job.clientId, clientSecret: job.clientSecret, scopes: [], scopeSeparator: " ", authorizeParams: {} });

await db.$queryRaw`SELECT 1`;
process.stdout.write("ready\n");
const rl = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => rl.once("line", () => resolve()));
rl.close();
const ctx = { tenantId: job.tenantId, connectionId: "race", sourceType: job.provider, config: {} };
const outcomes = await Promise.all(
  Array.from({ length: job.n }, () =>
    // a resolver each: nothing in memory is shared between these callers
    createCredentialResolver({ db, encryptionKey: key, consentProviders: lookup, now: () => new Date(job.nowMs) })
      .resolve(`consent:${job.provider}`, ctx)
      .catch((e: unknown) => ({ ok: false, error: { kind: "thrown", message: String((e as Error)?.message ?? e) } })),
  ),
);
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
await db.$disconnect();
