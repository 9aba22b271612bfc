-- AlterTable
ALTER TABLE "connections" ADD COLUMN     "lease_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "lease_owner" TEXT,
ADD COLUMN     "run_attempts" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "worker_heartbeats" (
    "id" TEXT NOT NULL,
    "pool_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "worker_heartbeats_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "worker_heartbeats_seen_at_idx" ON "worker_heartbeats"("seen_at");

-- CreateIndex
CREATE INDEX "connections_status_lease_expires_at_idx" ON "connections"("status", "lease_expires_at");


-- A new onboarding run starts whenever a connection goes back to PENDING from a decided status
-- (re-post, heal, consent, an approved destination), whoever wrote the UPDATE: its tries count from 0.
CREATE OR REPLACE FUNCTION connections_new_run() RETURNS trigger AS $$
BEGIN
  IF NEW.status = 'PENDING' AND OLD.status <> 'PENDING' THEN
    NEW.run_attempts := 0;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER connections_new_run
  BEFORE UPDATE OF status ON "connections"
  FOR EACH ROW EXECUTE FUNCTION connections_new_run();
