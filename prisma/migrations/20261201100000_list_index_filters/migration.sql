-- The connections list at a million rows (issue 13 item 5): the per-status sort indexes carry the
-- list's other index-served filters (source type, risk) as trailing key columns. A walk or a
-- count then tests those filters inside the index (no table row read for a row that does not
-- match), and a page's ids come from an index-only scan: only the 25 rows shown are read.
-- Trailing columns after id do not change any index's order (id is unique).
DROP INDEX "connections_tenant_id_namespace_status_id_idx";
DROP INDEX "connections_tenant_id_namespace_status_updated_at_id_idx";
DROP INDEX "connections_tenant_id_namespace_status_first_received_at_id_idx";
DROP INDEX "connections_tenant_id_namespace_status_risk_level_id_idx";
DROP INDEX "connections_tenant_id_namespace_status_latency_ms_id_idx";
DROP INDEX "connections_tenant_id_namespace_status_source_type_resource_idx";

CREATE INDEX "connections_list_id_idx" ON "connections"("tenant_id", "namespace", "status", "id", "source_type", "risk_level");
CREATE INDEX "connections_list_updated_at_idx" ON "connections"("tenant_id", "namespace", "status", "updated_at", "id", "source_type", "risk_level");
CREATE INDEX "connections_list_first_received_at_idx" ON "connections"("tenant_id", "namespace", "status", "first_received_at", "id", "source_type", "risk_level");
CREATE INDEX "connections_list_risk_level_idx" ON "connections"("tenant_id", "namespace", "status", "risk_level", "id", "source_type");
CREATE INDEX "connections_list_latency_ms_idx" ON "connections"("tenant_id", "namespace", "status", "latency_ms", "id", "source_type", "risk_level");
CREATE INDEX "connections_list_source_type_idx" ON "connections"("tenant_id", "namespace", "status", "source_type", "resource_key", "id", "risk_level");

-- Owner and free text, per status: the status is a key of the same GIN index (btree_gin), so a
-- status's matches of a search are found without reading the other statuses' matches (a broad
-- search — "error" — then costs its page, not every match). The indexes still serve the search
-- alone (a GIN index answers any subset of its columns).
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX "connections_owner_user_idx";
DROP INDEX "connections_status_reason_idx";
CREATE INDEX "connections_status_owner_user_idx" ON "connections" USING GIN ("status" enum_ops, "owner_user" gin_trgm_ops);
CREATE INDEX "connections_status_status_reason_idx" ON "connections" USING GIN ("status" enum_ops, "status_reason" gin_trgm_ops);
