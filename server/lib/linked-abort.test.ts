import { describe, expect, it } from "vitest";
import { linkedAbort } from "./linked-abort";

describe("linkedAbort", () => {
  it("aborts when the parent aborts, with the parent's reason", () => {
    const parent = new AbortController();
    const l = linkedAbort(parent.signal, 60_000);
    expect(l.signal.aborted).toBe(false);
    parent.abort(new Error("lease lost"));
    expect(l.signal.aborted).toBe(true);
    expect((l.signal.reason as Error).message).toBe("lease lost");
    l.dispose();
  });

  it("aborts when any of several parents aborts", () => {
    const a = new AbortController();
    const b = new AbortController();
    const l = linkedAbort([a.signal, undefined, b.signal]);
    b.abort("deadline");
    expect(l.signal.aborted).toBe(true);
    expect(l.signal.reason).toBe("deadline");
  });

  it("aborts after the time with a TimeoutError, and is aborted at once for an aborted parent", async () => {
    const l = linkedAbort(undefined, 5);
    await new Promise((r) => setTimeout(r, 30));
    expect(l.signal.aborted).toBe(true);
    expect((l.signal.reason as DOMException).name).toBe("TimeoutError");
    const p = new AbortController();
    p.abort("gone");
    expect(linkedAbort(p.signal, 1000).signal.aborted).toBe(true);
  });

  it("once disposed, neither the parent nor the timer reaches it, and the parent holds no listener", async () => {
    const parent = new AbortController();
    let added = 0;
    let removed = 0;
    const add = parent.signal.addEventListener.bind(parent.signal);
    const remove = parent.signal.removeEventListener.bind(parent.signal);
    parent.signal.addEventListener = ((...a: Parameters<typeof add>) => (added++, add(...a))) as typeof add;
    parent.signal.removeEventListener = ((...a: Parameters<typeof remove>) => (removed++, remove(...a))) as typeof remove;
    const l = linkedAbort(parent.signal, 5);
    l.dispose();
    l.dispose();
    expect([added, removed]).toEqual([1, 1]);
    await new Promise((r) => setTimeout(r, 30));
    parent.abort();
    expect(l.signal.aborted).toBe(false);
  });
});
