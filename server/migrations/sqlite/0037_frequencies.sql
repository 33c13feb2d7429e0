-- How often a person wants the messages of a purpose (issue 34 item 3): every message, a weekly
-- digest or a monthly one. A preference about consents, not a consent: recorded append-only with
-- who, how and when (as subject_changes records a subject's fields), not in the sealed chain.
-- The latest row per subject and purpose applies; none means every message.
CREATE TABLE frequency_choices (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id BLOB NOT NULL REFERENCES subjects (id),
    purpose    TEXT NOT NULL,
    frequency  TEXT NOT NULL CHECK (frequency IN ('every', 'weekly', 'monthly')),
    chosen_at  TEXT NOT NULL,
    source     TEXT NOT NULL,
    actor      TEXT NOT NULL
);
CREATE INDEX frequency_choices_by_subject ON frequency_choices (subject_id, purpose, seq);

CREATE TRIGGER frequency_choices_no_update BEFORE UPDATE ON frequency_choices
BEGIN
    SELECT RAISE(ABORT, 'frequency_choices is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER frequency_choices_no_delete BEFORE DELETE ON frequency_choices
BEGIN
    SELECT RAISE(ABORT, 'frequency_choices is append-only: DELETE is not allowed');
END;
