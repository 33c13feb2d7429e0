-- The zone a person's times are shown in (an IANA name), when one was set; NULL: their
-- jurisdiction's (Asia/Tokyo for jp, America/Los_Angeles for us_ca, otherwise UTC).
ALTER TABLE subjects ADD COLUMN time_zone TEXT;

-- A change of it is recorded like the other fields (with its new value). SQLite cannot change a
-- CHECK constraint: the table is rebuilt with every row, its index and its triggers.
CREATE TABLE subject_changes_new (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id BLOB NOT NULL REFERENCES subjects (id),
    field      TEXT NOT NULL CHECK (field IN ('email', 'phone', 'lang', 'jurisdiction', 'time_zone')),
    new_value  TEXT,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL
);
INSERT INTO subject_changes_new (seq, subject_id, field, new_value, changed_at, changed_by)
    SELECT seq, subject_id, field, new_value, changed_at, changed_by FROM subject_changes ORDER BY seq;
DROP TABLE subject_changes;
ALTER TABLE subject_changes_new RENAME TO subject_changes;
CREATE INDEX subject_changes_by_subject ON subject_changes (subject_id, seq);

CREATE TRIGGER subject_changes_no_update BEFORE UPDATE ON subject_changes
BEGIN
    SELECT RAISE(ABORT, 'subject_changes is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER subject_changes_no_delete BEFORE DELETE ON subject_changes
BEGIN
    SELECT RAISE(ABORT, 'subject_changes is append-only: DELETE is not allowed');
END;
