/**
 * The V8 old-space limit of the long-running processes (the web process with its worker, `npm run
 * worker`). V8 grows the heap lazily under a burst long after the live set stops growing: a 10,000-
 * intent batch peaked at ~380 MB RSS per process with a live heap of ~55 MB after it, and at
 * ~230 MB with the old space capped at 128 MB (README "Benchmarks"). 192 MB keeps a margin over
 * that and the 300 MB-per-process target; a NODE_OPTIONS that sets its own limit wins.
 */
export const HEAP_MB = 192;

export function withHeapLimit(nodeOptions: string | undefined): string {
  const given = nodeOptions ?? "";
  return /--max-old-space-size[= ]/.test(given) ? given : `${given} --max-old-space-size=${HEAP_MB}`.trim();
}
