/**
 * `make autonomy-mode`: turn Safe Mode, the caps and metrics on for the autonomy namespace (or
 * --namespace) and print the settings in force.
 */
import { parseArgs } from "node:util";
import { MAX_SAMPLE_RECORDS } from "../server/connectors/safe-mode/policy";
import { recordAudit } from "../server/audit/audit-repository";
import { upsertSettings } from "../server/onboarding/settings-repository";
import { openCli, runCli } from "./lib/cli";

runCli(async () => {
  const { values } = parseArgs({ options: { namespace: { type: "string", default: "autonomy" }, rate: { type: "string" }, target: { type: "string" } } });
  if (values.namespace === "demo") throw new Error('The "demo" namespace is read-only; autonomy mode applies to autonomy namespaces.');
  const cli = await openCli();
  try {
    const s = await upsertSettings(cli.db, cli.tenantId, values.namespace!, {
      safeMode: true,
      metricsEnabled: true,
      maxSampleRecords: MAX_SAMPLE_RECORDS,
      ...(values.rate ? { rateLimitPerMinute: Number(values.rate) } : {}),
      sloTarget: values.target ? Number(values.target) : cli.env.SLO_TARGET,
    });
    // settings changes are in the tenant's audit log, whoever makes them
    await recordAudit(cli.db, cli.tenantId, { label: "operator (make autonomy-mode)" }, "settings.changed", s.namespace, {
      safe_mode: s.safeMode,
      metrics: s.metricsEnabled,
      rate_per_minute: s.rateLimitPerMinute,
      max_sample_records: s.maxSampleRecords,
      slo_target: s.sloTarget,
    });
    console.log(`Autonomy mode is ON for namespace "${s.namespace}":`);
    console.log(`  Safe Mode (read-only, metadata first):  ${s.safeMode ? "on" : "off"}`);
    console.log(`  Funnel metrics:                         ${s.metricsEnabled ? "on" : "off"}`);
    console.log(`  Rate cap per connection:                ${s.rateLimitPerMinute} requests/minute`);
    console.log(`  Tiny first sync cap:                    ${s.maxSampleRecords} records`);
    console.log(`  Request timeout:                        ${s.requestTimeoutMs} ms`);
    console.log(`  Day-one coverage SLO target:            ${(s.sloTarget * 100).toFixed(0)}%`);
  } finally {
    await cli.close();
  }
});
