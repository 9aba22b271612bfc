/**
 * The benchmark's source, in a process of its own (a real source is another machine; its CPU
 * should not be billed to the pipeline): the HTTP SANDBOX, with `slow` mode = 50 ms per request.
 */
import { startHttpSandbox, type SandboxMode, type SandboxVendor } from "../server/connectors/sandbox/http-sandbox";

const sandbox = await startHttpSandbox({ port: 0, slowMs: 50 });
process.send?.({ type: "ready", github: sandbox.urlFor("github"), token: sandbox.token });
process.on("message", (m: { type: string; vendor: SandboxVendor; mode: SandboxMode }) => {
  if (m.type === "mode") {
    sandbox.setMode(m.vendor, m.mode);
    process.send?.({ type: "mode-set" });
  }
});
process.on("disconnect", () => void sandbox.close().then(() => process.exit(0)));
