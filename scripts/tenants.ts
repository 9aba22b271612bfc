/**
 * `npm run tenants -- <command>`: operator commands for tenants.
 *   create <slug> --name "<name>" --admin <email> [--json]   a tenant, its first admin (random password), one AOD key, default settings
 *   list [--json]
 *   disable <slug> | enable <slug>                            keys stop working and users cannot sign in at once; data stays
 * The admin password and the API key are printed once and stored only as hashes.
 */
import { parseArgs } from "node:util";
import { createTenant, listTenants, setTenantDisabled, TenantError } from "../server/tenants/tenant-repository";
import { openCli, runCli } from "./lib/cli";

const USAGE = 'Usage: npm run tenants -- create <slug> --name "<name>" --admin <email> [--json] | list [--json] | disable <slug> | enable <slug>';

runCli(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { name: { type: "string" }, admin: { type: "string" }, json: { type: "boolean", default: false } },
  });
  const [command, slug] = positionals;
  if (!command || !["create", "list", "disable", "enable"].includes(command) || (command !== "list" && !slug) || (command === "create" && !values.admin)) {
    console.error(USAGE);
    return 2;
  }
  const cli = await openCli({ requireTenant: false });
  try {
    if (command === "create") {
      const t = await createTenant(cli.db, { slug: slug!, name: values.name ?? slug!, adminEmail: values.admin!, sloTarget: cli.env.SLO_TARGET });
      if (values.json) {
        console.log(JSON.stringify({ tenant_id: t.tenant_id, slug: t.slug, admin_email: t.admin_email, admin_password: t.admin_password, api_key: t.api_key }));
      } else {
        console.log(`Tenant "${t.name}" (${t.slug}) created.\n  admin:    ${t.admin_email}\n  password: ${t.admin_password}\n  API key:  ${t.api_key}\nThe password and the key are shown only now.`);
      }
    } else if (command === "list") {
      const rows = await listTenants(cli.db);
      if (values.json) console.log(JSON.stringify(rows.map((r) => ({ tenant_id: r.id, slug: r.slug, name: r.name, created_at: r.createdAt.toISOString(), disabled: r.disabledAt !== null, users: r.users, connections: r.connections }))));
      else for (const r of rows) console.log(`${r.slug.padEnd(24)} ${r.disabledAt ? "disabled" : "active  "}  ${String(r.users).padStart(4)} user(s)  ${String(r.connections).padStart(7)} connection(s)  ${r.name}`);
    } else {
      const t = await setTenantDisabled(cli.db, slug!, command === "disable");
      console.log(command === "disable" ? `Tenant ${t.slug} is disabled: its API keys stop working and its users cannot sign in. Its data stays.` : `Tenant ${t.slug} is enabled again.`);
    }
  } catch (e) {
    if (e instanceof TenantError) {
      console.error(`[tenants] ${e.message}`);
      return e.code === "NOT_FOUND" ? 3 : 2;
    }
    throw e;
  } finally {
    await cli.close();
  }
  return 0;
});
