-- The connections list at a million rows (issue 13 item 5): free text within one status in
-- time proportional to that status's matches. A broad search ("unexpected", a fifth of the
-- rows) past its count's cap must still prove, for each status none of the counted matches were
-- in, that it has no match (or find its few): through the (status, status_reason) GIN index that
-- intersects the status's posting list with the text's trigrams' — lists as long as the whole
-- search's matches, 30–70 ms per status at 1M. Here each trigram of a row's status reason is
-- also stored prefixed with the row's status ("ACTIVE:une"), so a status's own trigrams have
-- posting lists of that status's rows only: ~0.1 ms when it has no match.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- every trigram of the reason, prefixed with the status (pg_trgm's own trigrams: lower case,
-- words split on non-alphanumerics, padded at word boundaries)
CREATE OR REPLACE FUNCTION connection_reason_tokens(status text, reason text) RETURNS text[] AS $$
  SELECT CASE WHEN reason IS NULL THEN '{}'::text[] ELSE ARRAY(SELECT status || ':' || t FROM unnest(show_trgm(reason)) t) END
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;

-- what a reason containing `search` (ILIKE '%search%') must hold: the trigrams inside the
-- search's words (no padded ones: the search may sit inside a longer word), prefixed with the
-- status. Empty when the search has no word of 3 characters (the caller then does not use it).
CREATE OR REPLACE FUNCTION connection_reason_probe(status text, search text) RETURNS text[] AS $$
  SELECT coalesce(array_agg(status || ':' || t), '{}'::text[]) FROM unnest(show_trgm(search)) t WHERE t NOT LIKE ' %' AND t NOT LIKE '% '
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;

ALTER TABLE "connections" ADD COLUMN "reason_tokens" TEXT[] NOT NULL DEFAULT '{}';

CREATE OR REPLACE FUNCTION connections_reason_tokens() RETURNS trigger AS $$
BEGIN
  NEW.reason_tokens := connection_reason_tokens(NEW.status::text, NEW.status_reason);
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER connections_reason_tokens
  BEFORE INSERT OR UPDATE OF status, status_reason ON "connections"
  FOR EACH ROW EXECUTE FUNCTION connections_reason_tokens();

UPDATE "connections" SET reason_tokens = connection_reason_tokens(status::text, status_reason) WHERE status_reason IS NOT NULL;

CREATE INDEX "connections_reason_tokens_idx" ON "connections" USING GIN ("reason_tokens");
