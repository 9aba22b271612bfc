-- Two indexes on `connections` that no query uses any more (issue 13): (tenant_id, namespace,
-- status, reachable) served the funnel before its counts table (20261201090000_connection_counts)
-- and (tenant_id, namespace, updated_at) the list before it walked one index per status
-- (connections_list_*). Over the list's 336 filter × sort × page combinations at a million
-- connections they were read 1 and 0 times; every insert and every status change still had to
-- write both. Dropped: the list's statements at 1M took 3–5% less in all (planned with fewer
-- candidates), its slowest combination unchanged.
DROP INDEX IF EXISTS "connections_tenant_id_namespace_status_reachable_idx";
DROP INDEX IF EXISTS "connections_tenant_id_namespace_updated_at_idx";
