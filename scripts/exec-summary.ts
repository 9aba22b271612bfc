/**
 * `npm run exec-summary [-- --namespace autonomy] [--json]`: the funnel in plain English (the
 * seed's scripts/exec_summary), from the same getFunnel() the API and the dashboard use.
 */
import { parseArgs } from "node:util";
import { describeFunnel, getFunnel } from "../server/onboarding/funnel";
import { openCli, runCli } from "./lib/cli";

runCli(async () => {
  const { values } = parseArgs({ options: { namespace: { type: "string", default: "autonomy" }, json: { type: "boolean", default: false } } });
  const cli = await openCli();
  try {
    const funnel = await getFunnel(cli.db, cli.tenantId, values.namespace!, { defaultTarget: cli.env.SLO_TARGET });
    console.log(values.json ? JSON.stringify(funnel, null, 2) : describeFunnel(funnel));
  } finally {
    await cli.close();
  }
});
