-- The hash chain: each event is sealed, in order, just after it commits. A seal covers the
-- event's canonical bytes and the previous seal (hex SHA-256). Append-only like the events.
CREATE TABLE event_seals (
    position  INTEGER PRIMARY KEY,          -- 1, 2, 3… the order of the chain
    event_seq INTEGER NOT NULL UNIQUE,      -- the sealed event
    seal      TEXT NOT NULL,
    sealed_at TEXT NOT NULL
);

CREATE TRIGGER event_seals_no_update BEFORE UPDATE ON event_seals
BEGIN
    SELECT RAISE(ABORT, 'event_seals is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER event_seals_no_delete BEFORE DELETE ON event_seals
BEGIN
    SELECT RAISE(ABORT, 'event_seals is append-only: DELETE is not allowed');
END;
