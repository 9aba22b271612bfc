/**
 * Invite and password-reset links: a random token in the URL, only its SHA-256 in the database
 * (the link is shown once to the admin who made it). Invites last 72 hours, reset links 24.
 */
import { createHash, randomBytes } from "node:crypto";

export const INVITE_TTL_MS = 72 * 60 * 60 * 1000;
export const RESET_TTL_MS = 24 * 60 * 60 * 1000;
export type LinkKind = "invite" | "reset";

export function newLinkToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashLinkToken(token) };
}

export function hashLinkToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The path the admin copies (the page prefixes its own origin): /invite/<token>. */
export const linkPath = (token: string) => `/invite/${token}`;
