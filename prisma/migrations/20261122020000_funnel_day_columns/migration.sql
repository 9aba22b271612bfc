-- DropIndex
DROP INDEX "connections_tenant_id_namespace_first_received_at_status_ac_idx";

-- AlterTable
ALTER TABLE "connections" ADD COLUMN     "day_one" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "first_day" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "connections_tenant_id_namespace_first_day_status_reachable__idx" ON "connections"("tenant_id", "namespace", "first_day", "status", "reachable", "day_one");


-- first_day / day_one follow first_received_at / activated_at on every write (row-local, so no
-- contention and nothing to drift); the funnel reads them through one index-only scan.
CREATE OR REPLACE FUNCTION connections_day_columns() RETURNS trigger AS $$
BEGIN
  NEW.first_day := floor(extract(epoch FROM NEW.first_received_at) / 86400)::int;
  NEW.day_one := NEW.activated_at IS NOT NULL AND NEW.activated_at <= NEW.first_received_at + interval '24 hours';
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER connections_day_columns
  BEFORE INSERT OR UPDATE OF first_received_at, activated_at ON "connections"
  FOR EACH ROW EXECUTE FUNCTION connections_day_columns();

UPDATE "connections" SET first_received_at = first_received_at;
