-- When Doui wrote each event: the database's clock at the insert, next to `occurred_at` (when
-- the writer says the change happened), sealed with the event. An event inserted later but
-- dated in the past is then recorded as what it is, and `doui verify` names an event whose
-- recorded time goes backwards along the chain. Events written before this migration have none
-- (NULL) and keep their seals; every later one must have one. (Adding the column takes the
-- table's lock: writers of other instances wait, so no event slips in between.)
ALTER TABLE consent_events ADD COLUMN recorded_at TIMESTAMPTZ;
ALTER TABLE consent_events ALTER COLUMN recorded_at SET DEFAULT clock_timestamp();

-- Any other value than the database's clock (missing, or more than a second from it) is
-- refused. The condition is checked by the executor; the function runs only to refuse.
CREATE FUNCTION consent_events_recorded_now() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_events.recorded_at must be the database clock at the insert';
END;
$$;

CREATE TRIGGER consent_events_recorded_now BEFORE INSERT ON consent_events
    FOR EACH ROW
    WHEN (NEW.recorded_at IS NULL OR NEW.recorded_at > clock_timestamp()
          OR NEW.recorded_at < clock_timestamp() - interval '1 second')
    EXECUTE FUNCTION consent_events_recorded_now();

-- The last event written before recorded times were kept: every event above it has one.
CREATE TABLE event_recorded_since (
    one       SMALLINT PRIMARY KEY CHECK (one = 1),
    after_seq BIGINT NOT NULL
);
INSERT INTO event_recorded_since (one, after_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM consent_events;

CREATE TRIGGER event_recorded_since_no_update_delete BEFORE UPDATE OR DELETE ON event_recorded_since
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER event_recorded_since_no_truncate BEFORE TRUNCATE ON event_recorded_since
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
