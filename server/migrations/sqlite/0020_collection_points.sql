-- Where a consent was given (ISO/IEC TS 27560 "collection method"): named collection points
-- with the wording shown to the person (as text and as its SHA-256) and the notice version they
-- present. A point is never deleted or edited: it can only be retired, once, and a retired point
-- stays as evidence for the events that name it (it names no new one).
CREATE TABLE collection_points (
    key            TEXT PRIMARY KEY,
    name_ja        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('web_form', 'checkout', 'app', 'store',
                                                 'call_center', 'paper', 'import', 'api')),
    location       TEXT NOT NULL,
    wording        TEXT NOT NULL,
    wording_sha256 TEXT NOT NULL,
    notice_version TEXT,
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    retired_at     TEXT,
    retired_by     TEXT
);

CREATE TRIGGER collection_points_retire_only BEFORE UPDATE ON collection_points
WHEN OLD.retired_at IS NOT NULL OR NEW.retired_at IS NULL OR NEW.retired_by IS NULL
    OR NEW.key IS NOT OLD.key OR NEW.name_ja IS NOT OLD.name_ja OR NEW.name_en IS NOT OLD.name_en
    OR NEW.kind IS NOT OLD.kind OR NEW.location IS NOT OLD.location
    OR NEW.wording IS NOT OLD.wording OR NEW.wording_sha256 IS NOT OLD.wording_sha256
    OR NEW.notice_version IS NOT OLD.notice_version OR NEW.created_at IS NOT OLD.created_at
    OR NEW.created_by IS NOT OLD.created_by
BEGIN
    SELECT RAISE(ABORT, 'collection_points can only be retired, once');
END;

CREATE TRIGGER collection_points_no_delete BEFORE DELETE ON collection_points
BEGIN
    SELECT RAISE(ABORT, 'collection_points are evidence: DELETE is not allowed');
END;

-- A change collected elsewhere names its collection point, the import batch that wrote it, the
-- form's URL and a reference to the sender's own proof. Sealed with the event (doui-event-v3).
ALTER TABLE consent_events ADD COLUMN collection_point TEXT REFERENCES collection_points (key);
ALTER TABLE consent_events ADD COLUMN import_batch TEXT;
ALTER TABLE consent_events ADD COLUMN form_url TEXT;
ALTER TABLE consent_events ADD COLUMN proof_ref TEXT;
