-- The console: events by time (charts, date filters), subjects by phone prefix (external id and
-- email already have unique indexes), and the audited history of each purpose's settings.
CREATE INDEX consent_events_by_time ON consent_events (occurred_at);
CREATE INDEX subjects_by_phone ON subjects (phone);

CREATE TABLE purpose_versions (
    purpose        TEXT NOT NULL REFERENCES purposes (key),
    version        INTEGER NOT NULL,
    changed_at     TEXT NOT NULL,
    changed_by     TEXT NOT NULL,
    name_ja        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    description_ja TEXT NOT NULL,
    description_en TEXT NOT NULL,
    mode           TEXT NOT NULL CHECK (mode IN ('opt_in', 'opt_out')),
    channels       TEXT NOT NULL,
    marketing      BOOLEAN NOT NULL,
    PRIMARY KEY (purpose, version)
);

-- Purposes that exist already start their history here.
INSERT INTO purpose_versions
SELECT key, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'system', name_ja, name_en,
       description_ja, description_en, mode, channels, marketing
FROM purposes;

CREATE TRIGGER purpose_versions_no_update BEFORE UPDATE ON purpose_versions
BEGIN
    SELECT RAISE(ABORT, 'purpose_versions is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER purpose_versions_no_delete BEFORE DELETE ON purpose_versions
BEGIN
    SELECT RAISE(ABORT, 'purpose_versions is append-only: DELETE is not allowed');
END;
