-- Retention: the only deletion of evidence allowed. A purged event leaves a tombstone, signed
-- with the checkpoint key over the chain link it replaces, so the chain still verifies; an event
-- without a tombstone still cannot be deleted.
CREATE TABLE event_tombstones (
    seq       BIGINT PRIMARY KEY,       -- the purged event's seq
    purged_at TEXT NOT NULL,          -- RFC 3339, exactly as signed
    reason    TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE TRIGGER event_tombstones_no_update_delete BEFORE UPDATE OR DELETE ON event_tombstones
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER event_tombstones_no_truncate BEFORE TRUNCATE ON event_tombstones
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM event_tombstones t WHERE t.seq = OLD.seq) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'consent_events is append-only: % is not allowed (DELETE only by retention, after its tombstone)', TG_OP;
END;
$$;
