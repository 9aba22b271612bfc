import { forbidden } from "next/navigation";
import { auth } from "@/server/auth/config";
import { listApiKeys } from "@/server/auth/api-key-repository";
import { can } from "@/server/auth/roles";
import { getDb } from "@/server/db/client";

export default async function ApiKeysPage() {
  const session = await auth();
  // The layout checks too; a page never relies on a parent for its own data's protection.
  if (!session?.user || !can(session.user.role, "manage_api_keys")) forbidden();
  const keys = await listApiKeys(getDb(), session.user.tenantId);
  return (
    <section>
      <h1 className="text-2xl font-semibold">API keys for AOD</h1>
      <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">Keys are shown once when created; only their prefix is kept readable.</p>
      {keys.length === 0 ? (
        <p className="mt-6">No keys yet.</p>
      ) : (
        <div className="mt-4 overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead>
              <tr className="border-b border-slate-200 dark:border-slate-800">
                <th className="py-2 pr-4">Name</th>
                <th className="py-2 pr-4">Key</th>
                <th className="py-2 pr-4">Created</th>
                <th className="py-2 pr-4">Last used</th>
                <th className="py-2 pr-4">State</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id} className="border-b border-slate-100 dark:border-slate-800">
                  <td className="py-2 pr-4">{k.name}</td>
                  <td className="py-2 pr-4 font-mono">aam_{k.prefix}_…</td>
                  <td className="py-2 pr-4">{k.createdAt.toISOString().slice(0, 16).replace("T", " ")}</td>
                  <td className="py-2 pr-4">{k.lastUsedAt ? k.lastUsedAt.toISOString().slice(0, 16).replace("T", " ") : "Never"}</td>
                  <td className="py-2 pr-4">{k.revokedAt ? "Revoked" : "Active"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
