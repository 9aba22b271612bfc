/**
 * Structured logs (pino). Callers log ids, stages and error names — never secrets, bodies or
 * stack traces of source errors; redaction paths are a second line of defence.
 */
import pino from "pino";
import { getEnv } from "../env";

let root: pino.Logger | undefined;

export function logger(): pino.Logger {
  root ??= pino({
    level: getEnv().LOG_LEVEL,
    base: undefined,
    redact: { paths: ["*.authorization", "*.password", "*.token", "*.secret", "*.access_token", "*.refresh_token", "req.headers.authorization"], censor: "[redacted]" },
  });
  return root;
}
