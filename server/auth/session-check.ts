/**
 * Sessions that can end. A JWT session is re-checked against the users table: the role and
 * tenant come from the database, and a disabled user, a user of a disabled tenant, or a session
 * older than the user's last "sign out everywhere" ends. The state is cached per process for
 * SESSION_RECHECK_MS, so a change made anywhere applies within that time (at once in the process
 * that made it, through forgetSessionState), and a page costs no query per request.
 */
import { lru } from "../lib/lru";
import type { Role, SessionState } from "./user-repository";

export const SESSION_RECHECK_MS = 30_000;
const MAX_ENTRIES = 10_000;

export type SessionClaims = { uid?: string; role?: Role; tenantId?: string; sv?: number };

const states = lru<string, { at: number; state: Promise<SessionState | null> }>(MAX_ENTRIES);

export function forgetSessionState(userId: string): void {
  states.delete(userId);
}

function stateOf(userId: string, read: (id: string) => Promise<SessionState | null>, now: number): Promise<SessionState | null> {
  const hit = states.get(userId);
  if (hit && now - hit.at < SESSION_RECHECK_MS) return hit.state;
  const state = read(userId).catch((e: unknown) => {
    states.delete(userId); // a failed read is not remembered
    throw e;
  });
  states.set(userId, { at: now, state });
  return state;
}

/** The claims to keep, refreshed from the database, or null when the session must end. */
export async function recheckSession<T extends SessionClaims>(token: T, read: (id: string) => Promise<SessionState | null>, now = Date.now()): Promise<T | null> {
  if (!token.uid) return null;
  let state: SessionState | null;
  try {
    state = await stateOf(token.uid, read, now);
    // a token newer than the cached state (a sign-in after "sign out everywhere" made in another
    // process or bundle): the cache is stale, not the session — read the database again
    if (state && (token.sv ?? 0) > state.sessionVersion) {
      forgetSessionState(token.uid);
      state = await stateOf(token.uid, read, now);
    }
  } catch {
    // the database is unreachable: keep the session (every action needs the database anyway),
    // rather than signing everyone out during an outage
    return token;
  }
  if (!state || !state.active || state.sessionVersion !== (token.sv ?? 0)) return null;
  token.role = state.role;
  token.tenantId = state.tenantId;
  return token;
}
