-- The projection (consents) is written only from the event that brings it up to date, in the
-- same statement. That event's own foreign keys already check its subject and purpose, so the
-- projection's keys checked them a second time, and its key to the event checked a row the
-- statement had just inserted: under one-click load these checks took a third of a writer's time.
-- They are dropped. The one deletion of events there is, retention, still may not remove an event
-- that is its consent's current choice (checked below, where the key did it).
ALTER TABLE consents DROP CONSTRAINT consents_subject_id_fkey;
ALTER TABLE consents DROP CONSTRAINT consents_purpose_fkey;
ALTER TABLE consents DROP CONSTRAINT consents_last_event_seq_fkey;

CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM event_tombstones t WHERE t.seq = OLD.seq) THEN
        IF EXISTS (SELECT 1 FROM consents c
                   WHERE c.subject_id = OLD.subject_id AND c.purpose = OLD.purpose
                     AND c.channel = OLD.channel AND c.last_event_seq = OLD.seq) THEN
            RAISE EXCEPTION 'consent_events: % is its consent''s current choice and cannot be purged', OLD.seq;
        END IF;
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'consent_events is append-only: % is not allowed (DELETE only by retention, after its tombstone)', TG_OP;
END;
$$;
