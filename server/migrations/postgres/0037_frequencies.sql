-- How often a person wants the messages of a purpose (issue 34 item 3): every message, a weekly
-- digest or a monthly one. A preference about consents, not a consent: recorded append-only with
-- who, how and when (as subject_changes records a subject's fields), not in the sealed chain.
-- The latest row per subject and purpose applies; none means every message.
CREATE TABLE frequency_choices (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id UUID NOT NULL REFERENCES subjects (id),
    purpose    TEXT NOT NULL,
    frequency  TEXT NOT NULL CHECK (frequency IN ('every', 'weekly', 'monthly')),
    chosen_at  TIMESTAMPTZ NOT NULL,
    source     TEXT NOT NULL,
    actor      TEXT NOT NULL
);
CREATE INDEX frequency_choices_by_subject ON frequency_choices (subject_id, purpose, seq);

CREATE TRIGGER frequency_choices_no_update_delete BEFORE UPDATE OR DELETE ON frequency_choices
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER frequency_choices_no_truncate BEFORE TRUNCATE ON frequency_choices
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
