-- A lasting objection to direct marketing (GDPR Art. 21(2)-(3); R34): "Stop all marketing" is
-- recorded as an objection that covers every marketing purpose, including those added later,
-- until the person lifts it. Raising and lifting are events with their provenance, append-only;
-- the latest row of a subject is in force.
CREATE TABLE marketing_objections (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id     BLOB NOT NULL REFERENCES subjects (id),
    objecting      INTEGER NOT NULL CHECK (objecting IN (0, 1)),
    occurred_at    TEXT NOT NULL,
    source         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    notice_version TEXT,
    origin_ip      TEXT,
    user_agent     TEXT,
    reason         TEXT
);
CREATE INDEX marketing_objections_by_subject ON marketing_objections (subject_id, seq);

CREATE TRIGGER marketing_objections_no_update BEFORE UPDATE ON marketing_objections
BEGIN
    SELECT RAISE(ABORT, 'marketing_objections is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER marketing_objections_no_delete BEFORE DELETE ON marketing_objections
BEGIN
    SELECT RAISE(ABORT, 'marketing_objections is append-only: DELETE is not allowed');
END;
