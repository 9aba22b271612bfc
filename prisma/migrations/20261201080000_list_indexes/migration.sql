-- The connections list at 1,000,000 rows (issue 13): every sort the page offers is an index walk
-- in either direction, the tie-breaker `id` included (server/onboarding/connection-query.ts).
-- sourceType sorts on the natural key (tenant_id, namespace, source_type, resource_key) and
-- updatedAt on (tenant_id, namespace, updated_at); these four cover the others.

-- CreateIndex
CREATE INDEX "connections_tenant_id_namespace_status_id_idx" ON "connections"("tenant_id", "namespace", "status", "id");

-- CreateIndex
CREATE INDEX "connections_tenant_id_namespace_risk_level_id_idx" ON "connections"("tenant_id", "namespace", "risk_level", "id");

-- CreateIndex
CREATE INDEX "connections_tenant_id_namespace_first_received_at_id_idx" ON "connections"("tenant_id", "namespace", "first_received_at", "id");

-- CreateIndex
CREATE INDEX "connections_tenant_id_namespace_latency_ms_id_idx" ON "connections"("tenant_id", "namespace", "latency_ms", "id");
