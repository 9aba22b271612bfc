// Next.js calls register() once per server process: start the onboarding worker there
// (the embedded default runs jobs in the web process; `npm run worker` scales them out).
// NEXT_RUNTIME is a build-time constant Next.js inlines (not configuration): it keeps the
// Node-only worker out of the edge bundle.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { startEmbeddedWorker } = await import("./server/jobs/embedded");
    startEmbeddedWorker();
  }
}
