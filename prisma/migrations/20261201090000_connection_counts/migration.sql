-- The funnel's counts, kept exact by the database itself (issue 13 item 5): one row per
-- (tenant, namespace, first day, status, reachable, day one, slot) with the number of connections
-- in that group. Statement-level triggers on `connections` apply every INSERT, UPDATE and DELETE
-- (cascades included) in the same transaction as the write, so the counts commit or roll back
-- with it: no counter that drifts, and the funnel reads a few hundred rows at any size instead of
-- scanning every connection. `slot` (the writer's backend pid mod 16) spreads concurrent writers
-- over 16 rows per group so they do not queue on one row lock; a slot's count may go below zero,
-- the sum over the slots is the count. Deltas are applied in key order (no lock-order deadlock
-- between two statements' upserts).
CREATE TABLE "connection_counts" (
    "tenant_id" UUID NOT NULL,
    "namespace" TEXT NOT NULL,
    "first_day" INTEGER NOT NULL,
    "status" "ConnectionStatus" NOT NULL,
    "reachable" BOOLEAN NOT NULL,
    "day_one" BOOLEAN NOT NULL,
    "slot" SMALLINT NOT NULL,
    "n" BIGINT NOT NULL,

    CONSTRAINT "connection_counts_pkey" PRIMARY KEY ("tenant_id","namespace","first_day","status","reachable","day_one","slot")
);

-- no foreign key to tenants: deleting a tenant cascades to its connections, whose delete trigger
-- then writes the (cancelling) deltas here after the tenant row is gone; its groups sum to zero.

CREATE FUNCTION connection_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO connection_counts AS c (tenant_id, namespace, first_day, status, reachable, day_one, slot, n)
    SELECT tenant_id, namespace, first_day, status, reachable, day_one, (pg_backend_pid() % 16)::smallint, count(*)
    FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (tenant_id, namespace, first_day, status, reachable, day_one, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO connection_counts AS c (tenant_id, namespace, first_day, status, reachable, day_one, slot, n)
    SELECT tenant_id, namespace, first_day, status, reachable, day_one, (pg_backend_pid() % 16)::smallint, -count(*)
    FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (tenant_id, namespace, first_day, status, reachable, day_one, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSE
    -- the net change per group: an update that changes none of the counted columns (a heartbeat,
    -- an event, a retry note) writes nothing here
    INSERT INTO connection_counts AS c (tenant_id, namespace, first_day, status, reachable, day_one, slot, n)
    SELECT tenant_id, namespace, first_day, status, reachable, day_one, (pg_backend_pid() % 16)::smallint, sum(d)
    FROM (
      SELECT tenant_id, namespace, first_day, status, reachable, day_one, -1 AS d FROM old_rows
      UNION ALL
      SELECT tenant_id, namespace, first_day, status, reachable, day_one, 1 AS d FROM new_rows
    ) delta
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (tenant_id, namespace, first_day, status, reachable, day_one, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER connection_counts_insert AFTER INSERT ON "connections" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION connection_counts_apply();
CREATE TRIGGER connection_counts_update AFTER UPDATE ON "connections" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION connection_counts_apply();
CREATE TRIGGER connection_counts_delete AFTER DELETE ON "connections" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION connection_counts_apply();
-- TRUNCATE would bypass the row triggers: empty the counts with it
CREATE FUNCTION connection_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM connection_counts;
  RETURN NULL;
END $$;
CREATE TRIGGER connection_counts_truncate AFTER TRUNCATE ON "connections" FOR EACH STATEMENT EXECUTE FUNCTION connection_counts_truncate();

-- what is there already
INSERT INTO connection_counts (tenant_id, namespace, first_day, status, reachable, day_one, slot, n)
SELECT tenant_id, namespace, first_day, status, reachable, day_one, 0, count(*) FROM connections GROUP BY 1, 2, 3, 4, 5, 6;
