-- APPI records. Third-party recipients (第27条: name, address, representative), and one record
-- per provision of a person's data to a recipient (第29条, 規則19-21条: date, recipient, the items
-- that identify the person, the data items), append-only, kept at least 3 years: retention
-- never deletes them.
CREATE TABLE recipients (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL,
    representative TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE provisions (
    seq           BIGSERIAL PRIMARY KEY,
    subject_id    UUID NOT NULL REFERENCES subjects (id),
    recipient     TEXT NOT NULL REFERENCES recipients (id),
    purpose       TEXT NOT NULL REFERENCES purposes (key),
    provided_at   TIMESTAMPTZ NOT NULL,
    identified_by TEXT NOT NULL,
    data_items    TEXT NOT NULL,
    recorded_by   TEXT NOT NULL
);
CREATE INDEX provisions_by_subject ON provisions (subject_id, seq);

CREATE TRIGGER provisions_no_update_delete BEFORE UPDATE OR DELETE ON provisions
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER provisions_no_truncate BEFORE TRUNCATE ON provisions
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- Data received from another business (第30条, 規則22-25条): the provider's name, address and
-- representative and how the provider acquired it, confirmed and recorded on receipt; kept at
-- least 3 years, append-only.
CREATE TABLE acquisitions (
    seq                     BIGSERIAL PRIMARY KEY,
    subject_id              UUID NOT NULL REFERENCES subjects (id),
    provider_name           TEXT NOT NULL,
    provider_address        TEXT NOT NULL,
    provider_representative TEXT NOT NULL,
    acquired_by             TEXT NOT NULL,
    data_items              TEXT NOT NULL,
    received_at             TIMESTAMPTZ NOT NULL,
    recorded_by             TEXT NOT NULL
);
CREATE INDEX acquisitions_by_subject ON acquisitions (subject_id, seq);

CREATE TRIGGER acquisitions_no_update_delete BEFORE UPDATE OR DELETE ON acquisitions
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER acquisitions_no_truncate BEFORE TRUNCATE ON acquisitions
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
