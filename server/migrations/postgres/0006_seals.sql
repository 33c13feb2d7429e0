-- The hash chain: each event is sealed, in order, just after it commits. A seal covers the
-- event's canonical bytes and the previous seal (hex SHA-256). Append-only like the events.
CREATE TABLE event_seals (
    position  BIGINT PRIMARY KEY,           -- 1, 2, 3… the order of the chain
    event_seq BIGINT NOT NULL UNIQUE,       -- the sealed event
    seal      TEXT NOT NULL,
    sealed_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TRIGGER event_seals_no_update_delete BEFORE UPDATE OR DELETE ON event_seals
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER event_seals_no_truncate BEFORE TRUNCATE ON event_seals
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
