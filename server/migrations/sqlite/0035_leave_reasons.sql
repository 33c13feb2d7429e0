-- Why a person left (issue 34 item 1): the one optional question after an unsubscribe, kept
-- beside each withdrawal that unsubscribe recorded (the first answer for an event stands). Not
-- part of the sealed log: the events are the evidence; this is what the person volunteered.
-- An erasure clears the free text (it may name the person); the fixed reason stays, for counts.
CREATE TABLE leave_reasons (
    event_id    TEXT PRIMARY KEY,
    subject_id  BLOB NOT NULL REFERENCES subjects (id),
    purpose     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    campaign    TEXT,
    reason      TEXT NOT NULL CHECK (reason IN ('too_many', 'not_relevant', 'never_signed_up', 'other')),
    text        TEXT,
    answered_at TEXT NOT NULL
);
CREATE INDEX leave_reasons_by_time ON leave_reasons (answered_at);
CREATE INDEX leave_reasons_by_subject ON leave_reasons (subject_id);
