// Next.js calls register() once per server process: start the onboarding worker there
// (the embedded default runs jobs in the web process; `npm run worker` scales them out).
// NEXT_RUNTIME is a build-time constant Next.js inlines (not configuration): it keeps the
// Node-only worker out of the edge bundle.
// NEXT_MANUAL_SIG_HANDLE (set by `npm start` for its web process) leaves SIGTERM/SIGINT to us:
// the worker stops taking work, running attempts finish or hand back, and the process exits 0
// within 10 s. Without it Next.js exits at once and the attempts' leases expire in seconds.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { startEmbeddedWorker, stopEmbeddedWorker } = await import("./server/jobs/embedded");
    startEmbeddedWorker();
    if (process.env.NEXT_MANUAL_SIG_HANDLE) {
      let stopping = false;
      const onSignal = () => {
        if (stopping) return;
        stopping = true;
        setTimeout(() => process.exit(0), 9_500).unref();
        void stopEmbeddedWorker().finally(() => process.exit(0));
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
    }
  }
}
