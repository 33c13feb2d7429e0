-- Retention: the only deletion of evidence allowed. A purged event leaves a tombstone, signed
-- with the checkpoint key over the chain link it replaces, so the chain still verifies; an event
-- without a tombstone still cannot be deleted.
CREATE TABLE event_tombstones (
    seq       INTEGER PRIMARY KEY,      -- the purged event's seq
    purged_at TEXT NOT NULL,          -- RFC 3339, exactly as signed
    reason    TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE TRIGGER event_tombstones_no_update BEFORE UPDATE ON event_tombstones
BEGIN
    SELECT RAISE(ABORT, 'event_tombstones is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER event_tombstones_no_delete BEFORE DELETE ON event_tombstones
BEGIN
    SELECT RAISE(ABORT, 'event_tombstones is append-only: DELETE is not allowed');
END;

DROP TRIGGER consent_events_no_delete;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
WHEN NOT EXISTS (SELECT 1 FROM event_tombstones t WHERE t.seq = OLD.seq)
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only: DELETE is allowed only by retention, after its tombstone');
END;
