-- DropIndex
DROP INDEX "connections_tenant_id_namespace_first_received_at_idx";

-- AlterTable
ALTER TABLE "connections" ADD COLUMN     "intent_hash" TEXT NOT NULL DEFAULT '';

-- CreateIndex
CREATE INDEX "connections_tenant_id_namespace_first_received_at_status_ac_idx" ON "connections"("tenant_id", "namespace", "first_received_at", "status", "activated_at");

-- CreateIndex
CREATE INDEX "connections_status_last_attempt_at_idx" ON "connections"("status", "last_attempt_at");

