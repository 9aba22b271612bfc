-- The audit log is append-only: besides updates (refused since 20261201000000), deletes are
-- refused too, except when the tenant itself is deleted (ON DELETE CASCADE runs after the
-- tenant's row is gone, so the entries go with it).
CREATE FUNCTION audit_events_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id) THEN
    RAISE EXCEPTION 'audit_events is append-only: entries are removed only with their tenant';
  END IF;
  RETURN OLD;
END;
$$;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON "audit_events" FOR EACH ROW EXECUTE FUNCTION audit_events_no_delete();
