-- The console: events by time (charts, date filters), subjects by prefix (byte order, whatever
-- the database's collation), and the audited history of each purpose's settings.
CREATE INDEX consent_events_by_time ON consent_events (occurred_at);
CREATE INDEX subjects_external_id_prefix ON subjects (external_id COLLATE "C");
CREATE INDEX subjects_email_prefix ON subjects (email COLLATE "C");
CREATE INDEX subjects_phone_prefix ON subjects (phone COLLATE "C");

CREATE TABLE purpose_versions (
    purpose        TEXT NOT NULL REFERENCES purposes (key),
    version        BIGINT NOT NULL,
    changed_at     TIMESTAMPTZ NOT NULL,
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

INSERT INTO purpose_versions
SELECT key, 1, now(), 'system', name_ja, name_en, description_ja, description_en, mode, channels,
       marketing
FROM purposes;

CREATE TRIGGER purpose_versions_no_update_delete BEFORE UPDATE OR DELETE ON purpose_versions
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER purpose_versions_no_truncate BEFORE TRUNCATE ON purpose_versions
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
