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
