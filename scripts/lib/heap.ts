/**
 * The V8 old-space limit of the long-running processes (the web process with its worker, `npm run
 * worker`): a bound on a burst, not the heap's size. Before the Safe Mode HTTP leak was fixed a
 * 10,000-intent batch grew an uncapped process to ~380 MB RSS, so the limit was 192 MB; since, the
 * batch peaks at 230–270 MB RSS under any limit from 192 to 1,024 MB (live heap ~49 MB after it).
 * A low limit makes V8 collect the old generation more often: the next full collection's
 * allocation limit is never set past halfway from the heap's size to the limit, and the growing
 * factor is scaled down with the limit (`BoundAllocationLimit`, `MaxGrowingFactor` in V8's
 * src/heap/heap-controller.cc, as Node's deps/v8 ships it). 192 MB cost 4–7% more of the batch's
 * app CPU than 384–1,024 MB (README "Benchmarks", 2026-12-04); 384 MB keeps most of that gain
 * and a bound near the 300 MB target. For `npm start` (withHeapLimit) a NODE_OPTIONS that sets
 * its own limit wins; `npm run worker` sets it on its command line, which wins over NODE_OPTIONS.
 */
export const HEAP_MB = 384;

export function withHeapLimit(nodeOptions: string | undefined): string {
  const given = nodeOptions ?? "";
  return /--max-old-space-size[= ]/.test(given) ? given : `${given} --max-old-space-size=${HEAP_MB}`.trim();
}
