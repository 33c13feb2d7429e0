-- Erasure on request (GDPR Art. 17; R35). The person's identifiers leave `subjects` (email and
-- phone cleared, external id replaced); the events stay as evidence of what they chose (Art.
-- 17(3)(b), (e)), keyed only by the subject's random id. A SHA-256 digest of each erased
-- identifier is kept so the address is never imported and contacted again (the ICO's
-- suppression advice); the person may still subscribe again themselves.
ALTER TABLE subjects ADD COLUMN erased_at TEXT;

CREATE TABLE erasures (
    subject_id BLOB PRIMARY KEY REFERENCES subjects (id),
    erased_at  TEXT NOT NULL,
    erased_by  TEXT NOT NULL,
    reason     TEXT NOT NULL
);

CREATE TABLE erased_identifiers (
    digest    TEXT PRIMARY KEY,            -- hex SHA-256 of "email:<address>" or "phone:<E.164>"
    kind      TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    erased_at TEXT NOT NULL
);
