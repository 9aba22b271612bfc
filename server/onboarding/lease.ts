/**
 * Attempt leases (issue 11, item 1): a running attempt holds its connection's lease (owner = this
 * process's worker id, expires_at = now + LEASE_MS); a heartbeat renews every lease this process
 * holds every HEARTBEAT_MS. Nobody else starts an attempt on a connection with a live lease; an
 * expired lease (a dead or frozen process) is taken over. When a renewal finds the lease gone or
 * the attempt superseded, the attempt is aborted, so it stops talking to the source.
 *
 * In-process state lives on globalThis: Next.js may load this module more than once.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import type { Db } from "../db/client";
import { renewLeases } from "./connection-repository";

export const LEASE_MS = 8_000;
export const HEARTBEAT_MS = 2_000;

export type AbortReason = "lease_lost" | "superseded" | "shutdown";

export type Held = {
  id: string;
  db: Db;
  /** the fencing attempt number of the running try; -1 while a try is being started */
  attempt: number;
  controller: AbortController;
  reason?: AbortReason;
};

type State = { workerId: string; held: Map<string, Held>; timer?: NodeJS.Timeout; beating?: Promise<void>; draining: boolean };
const g = globalThis as unknown as { __aamLeases?: State };

function state(): State {
  g.__aamLeases ??= { workerId: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, held: new Map(), draining: false };
  return g.__aamLeases;
}

/** This process's worker id (the lease owner and its worker_heartbeats row). */
export function workerId(): string {
  return state().workerId;
}

/** Reserves a connection for an attempt in this process; null when one already runs here (or the process is shutting down). */
export function holdLocal(id: string, db: Db): Held | null {
  const s = state();
  if (s.held.has(id) || s.draining) return null;
  const h: Held = { id, db, attempt: -1, controller: new AbortController() };
  s.held.set(id, h);
  s.timer ??= setInterval(() => void beat(), HEARTBEAT_MS);
  s.timer.unref?.();
  return h;
}

/** A fresh abort controller for the next try of a held connection. */
export function nextTry(h: Held): AbortSignal {
  h.attempt = -1;
  if (!h.reason || h.reason === "superseded") {
    h.reason = undefined;
    h.controller = new AbortController();
  }
  return h.controller.signal;
}

/** Why the held attempt was asked to stop, if it was. */
export function abortReason(h: Held): AbortReason | undefined {
  return h.reason;
}

export function abortHeld(h: Held, reason: AbortReason): void {
  if (h.reason === "shutdown" || h.reason === "lease_lost") return;
  h.reason = reason;
  h.controller.abort(new Error(`attempt aborted: ${reason}`));
}

export function releaseLocal(h: Held): void {
  const s = state();
  if (s.held.get(h.id) === h) s.held.delete(h.id);
  if (s.held.size === 0 && s.timer) {
    clearInterval(s.timer);
    s.timer = undefined;
  }
}

export function heldIds(): string[] {
  return [...state().held.keys()];
}

export function heldCount(): number {
  return state().held.size;
}

/** Renews every lease this process holds (one statement per database); aborts attempts whose lease is gone or superseded. */
export async function beat(): Promise<void> {
  const s = state();
  if (s.beating) return s.beating;
  s.beating = (async () => {
    const byDb = new Map<Db, Held[]>();
    for (const h of s.held.values()) if (h.attempt >= 0 && !h.reason) byDb.set(h.db, [...(byDb.get(h.db) ?? []), h]);
    for (const [db, hs] of byDb) {
      let renewed: { id: string; attempts: number }[];
      try {
        renewed = await renewLeases(db, s.workerId, hs.map((h) => h.id), LEASE_MS);
      } catch {
        continue; // the database is away: the attempts fail on their own and retry; nothing to decide here
      }
      const got = new Map(renewed.map((r) => [r.id, r.attempts]));
      for (const h of hs) {
        if (h.attempt < 0 || s.held.get(h.id) !== h) continue; // a new try started meanwhile
        const attempts = got.get(h.id);
        if (attempts === undefined) abortHeld(h, "lease_lost");
        else if (attempts !== h.attempt) abortHeld(h, "superseded");
      }
    }
  })().finally(() => (s.beating = undefined));
  return s.beating;
}

/** Graceful shutdown: take no new attempts here, and ask the running ones to hand back. */
export function drain(): void {
  const s = state();
  s.draining = true;
  for (const h of s.held.values()) abortHeld(h, "shutdown");
}

/** For tests: accept attempts again after drain(). */
export function undrain(): void {
  state().draining = false;
}

export function isDraining(): boolean {
  return state().draining;
}
