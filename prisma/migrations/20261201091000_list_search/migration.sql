-- The connections list at a million rows (issue 13 item 5): free text and owner become index
-- lookups instead of a scan of every row; the funnel no longer needs its covering index (it reads
-- connection_counts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- the owner's user, out of the JSON, so a trigram index can serve the owner filter
ALTER TABLE "connections" ADD COLUMN "owner_user" TEXT GENERATED ALWAYS AS ("owner" ->> 'user') STORED;

CREATE INDEX "connections_owner_user_idx" ON "connections" USING GIN ("owner_user" gin_trgm_ops);
CREATE INDEX "connections_status_reason_idx" ON "connections" USING GIN ("status_reason" gin_trgm_ops);
CREATE INDEX "connections_resource_ids_idx" ON "connections" USING GIN ("resource_ids");
CREATE INDEX "connections_tenant_id_intent_id_idx" ON "connections"("tenant_id", "intent_id");

DROP INDEX "connections_tenant_id_namespace_first_day_status_reachable__idx";

-- every sort within one status, for the list's per-status index walks (connection-query.ts): a
-- list of statuses sorted by status, or a status whose rows sit at one end of a sort (the
-- latency of rows that never finished), are still walks of at most offset + page rows
CREATE INDEX "connections_tenant_id_namespace_status_updated_at_id_idx" ON "connections"("tenant_id", "namespace", "status", "updated_at", "id");
CREATE INDEX "connections_tenant_id_namespace_status_first_received_at_id_idx" ON "connections"("tenant_id", "namespace", "status", "first_received_at", "id");
CREATE INDEX "connections_tenant_id_namespace_status_risk_level_id_idx" ON "connections"("tenant_id", "namespace", "status", "risk_level", "id");
CREATE INDEX "connections_tenant_id_namespace_status_latency_ms_id_idx" ON "connections"("tenant_id", "namespace", "status", "latency_ms", "id");
CREATE INDEX "connections_tenant_id_namespace_status_source_type_resource_idx" ON "connections"("tenant_id", "namespace", "status", "source_type", "resource_key", "id");
-- the sort indexes across statuses are no longer read by the list
DROP INDEX "connections_tenant_id_namespace_risk_level_id_idx";
DROP INDEX "connections_tenant_id_namespace_first_received_at_id_idx";
DROP INDEX "connections_tenant_id_namespace_latency_ms_id_idx";
