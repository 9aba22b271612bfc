/**
 * Wiring of the admin-consent flow for the web process: the shared database and job queue, the
 * encryption key and the logger. The redirect URI is this app's public origin (OAUTH_REDIRECT_BASE_URL)
 * or, without one, the origin the admin's browser used.
 */
import type { ConsentFlowDeps } from "../credentials/consent-flow";
import { CALLBACK_PATH } from "../credentials/consent-flow";
import { encryptionKeyFromEnv } from "../credentials/crypto";
import { getEnv } from "../env";
import { logger } from "../lib/logger";
import { services, submitDeps } from "./services";

export function consentFlowDeps(): ConsentFlowDeps {
  return { db: services().db, encryptionKey: encryptionKeyFromEnv(), enqueue: submitDeps().enqueue, log: logger() };
}

export function consentRedirectUri(requestOrigin: string): string {
  const base = getEnv().OAUTH_REDIRECT_BASE_URL ?? requestOrigin;
  return new URL(CALLBACK_PATH, base).toString();
}
