-- When Doui wrote each event: the database's clock at the insert, next to `occurred_at` (when
-- the writer says the change happened), sealed with the event. An event inserted later but
-- dated in the past is then recorded as what it is, and `doui verify` names an event whose
-- recorded time goes backwards along the chain. Events written before this migration have none
-- (NULL) and keep their seals; every later one must have one.
ALTER TABLE consent_events ADD COLUMN recorded_at TEXT;

-- SQLite cannot give a column added later a clock default: the writers set it to
-- strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), and an insert with anything else (missing, or more
-- than a second from the database's clock) is refused.
CREATE TRIGGER consent_events_recorded_now BEFORE INSERT ON consent_events
WHEN NEW.recorded_at IS NULL OR julianday(NEW.recorded_at) IS NULL
    OR abs(julianday(NEW.recorded_at) - julianday('now')) * 86400.0 > 1.0
BEGIN
    SELECT RAISE(ABORT, 'consent_events.recorded_at must be the database clock at the insert');
END;

-- The last event written before recorded times were kept: every event above it has one.
CREATE TABLE event_recorded_since (
    one       INTEGER PRIMARY KEY CHECK (one = 1),
    after_seq INTEGER NOT NULL
);
INSERT INTO event_recorded_since (one, after_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM consent_events;

CREATE TRIGGER event_recorded_since_no_update BEFORE UPDATE ON event_recorded_since
BEGIN
    SELECT RAISE(ABORT, 'event_recorded_since is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER event_recorded_since_no_delete BEFORE DELETE ON event_recorded_since
BEGIN
    SELECT RAISE(ABORT, 'event_recorded_since is append-only: DELETE is not allowed');
END;
