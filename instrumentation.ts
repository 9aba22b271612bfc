// Next.js calls register() once per server process: start the onboarding worker there
// (the embedded default runs jobs in the web process; `npm run worker` scales them out).
export async function register() {
  if (typeof (globalThis as { EdgeRuntime?: unknown }).EdgeRuntime === "string") return;
  const { startEmbeddedWorker } = await import("./server/jobs/embedded");
  startEmbeddedWorker();
}
