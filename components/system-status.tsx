"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc-provider";

export function SystemStatus() {
  const trpc = useTRPC();
  const health = useQuery(trpc.system.health.queryOptions(undefined, { refetchInterval: 15_000 }));
  if (health.isPending) return <p className="text-sm text-slate-500">Checking the database…</p>;
  if (health.isError) return <p className="text-sm text-red-700 dark:text-red-300">Could not reach the server. Retrying…</p>;
  const db = health.data.database;
  return (
    <p className="text-sm" data-testid="system-status">
      Database {db.status === "up" ? `is up (${db.latency_ms} ms, ${db.migrations} migrations applied)` : "is down"}
    </p>
  );
}
