/** `make heal` / `npm run heal [-- --namespace autonomy] [--id <connection>]`: heal HEALING connections. */
import { parseArgs } from "node:util";
import { createPipelineDeps } from "../server/onboarding/deps";
import { healConnections } from "../server/onboarding/heal";
import { openCli, runCli } from "./lib/cli";

runCli(async () => {
  const { values } = parseArgs({ options: { namespace: { type: "string", default: "autonomy" }, id: { type: "string" } } });
  const cli = await openCli();
  try {
    console.log(`Healing HEALING connections in "${values.namespace}"${values.id ? ` (only ${values.id})` : ""}…`);
    const report = await healConnections(createPipelineDeps(cli.db), cli.tenantId, values.namespace!, {
      connectionId: values.id,
      onProgress: (done, total, last) => console.log(`  [${done}/${total}] ${last.id}: ${last.status}${last.status === "ACTIVE" ? "" : ` — ${last.reason ?? ""}`}`),
    });
    if (report.total === 0) console.log("Nothing to heal: no connection is HEALING there.");
    else console.log(`Healed ${report.healed} of ${report.total}; ${report.total - report.healed} still need attention.`);
    return report.total - report.healed > 0 ? 2 : 0;
  } finally {
    await cli.close();
  }
});
