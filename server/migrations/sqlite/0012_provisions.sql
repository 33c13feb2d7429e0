-- APPI records. Third-party recipients (第27条: name, address, representative), and one record
-- per provision of a person's data to a recipient (第29条, 規則19-21条: date, recipient, the items
-- that identify the person, the data items), append-only, kept at least 3 years: retention
-- never deletes them.
CREATE TABLE recipients (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL,
    representative TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE provisions (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id    BLOB NOT NULL REFERENCES subjects (id),
    recipient     TEXT NOT NULL REFERENCES recipients (id),
    purpose       TEXT NOT NULL REFERENCES purposes (key),
    provided_at   TEXT NOT NULL,
    identified_by TEXT NOT NULL,
    data_items    TEXT NOT NULL,
    recorded_by   TEXT NOT NULL
);
CREATE INDEX provisions_by_subject ON provisions (subject_id, seq);

CREATE TRIGGER provisions_no_update BEFORE UPDATE ON provisions
BEGIN
    SELECT RAISE(ABORT, 'provisions is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER provisions_no_delete BEFORE DELETE ON provisions
BEGIN
    SELECT RAISE(ABORT, 'provisions is append-only: DELETE is not allowed');
END;

-- Data received from another business (第30条, 規則22-25条): the provider's name, address and
-- representative and how the provider acquired it, confirmed and recorded on receipt; kept at
-- least 3 years, append-only.
CREATE TABLE acquisitions (
    seq                     INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id              BLOB NOT NULL REFERENCES subjects (id),
    provider_name           TEXT NOT NULL,
    provider_address        TEXT NOT NULL,
    provider_representative TEXT NOT NULL,
    acquired_by             TEXT NOT NULL,
    data_items              TEXT NOT NULL,
    received_at             TEXT NOT NULL,
    recorded_by             TEXT NOT NULL
);
CREATE INDEX acquisitions_by_subject ON acquisitions (subject_id, seq);

CREATE TRIGGER acquisitions_no_update BEFORE UPDATE ON acquisitions
BEGIN
    SELECT RAISE(ABORT, 'acquisitions is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER acquisitions_no_delete BEFORE DELETE ON acquisitions
BEGIN
    SELECT RAISE(ABORT, 'acquisitions is append-only: DELETE is not allowed');
END;
