/** Native drivers (SQL, files, object storage, Mongo), keyed by the driver name the catalog uses. */
import type { SourceAdapter } from "../types";
import { filesourceAdapter } from "./filesource";
import { jdbcAdapter } from "./jdbc";
import { mongoAdapter } from "./mongo";
import { postgresAdapter } from "./postgres";
import { s3Adapter } from "./s3";

export const nativeDrivers: Record<string, SourceAdapter> = {
  postgres: postgresAdapter,
  jdbc: jdbcAdapter,
  mongo: mongoAdapter,
  s3: s3Adapter,
  filesource: filesourceAdapter,
};
