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
    created_at     TIMESTAMPTZ NOT NULL,
    created_by     TEXT NOT NULL,
    retired_at     TIMESTAMPTZ,
    retired_by     TEXT
);

CREATE FUNCTION collection_points_retire_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'collection_points can only be retired, once';
END;
$$;

CREATE TRIGGER collection_points_retire_only BEFORE UPDATE ON collection_points
    FOR EACH ROW
    WHEN (OLD.retired_at IS NOT NULL OR NEW.retired_at IS NULL OR NEW.retired_by IS NULL
          OR (NEW.key, NEW.name_ja, NEW.name_en, NEW.kind, NEW.location, NEW.wording,
              NEW.wording_sha256, NEW.created_at, NEW.created_by)
             IS DISTINCT FROM
             (OLD.key, OLD.name_ja, OLD.name_en, OLD.kind, OLD.location, OLD.wording,
              OLD.wording_sha256, OLD.created_at, OLD.created_by)
          OR NEW.notice_version IS DISTINCT FROM OLD.notice_version)
    EXECUTE FUNCTION collection_points_retire_only();
CREATE TRIGGER collection_points_no_delete BEFORE DELETE ON collection_points
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER collection_points_no_truncate BEFORE TRUNCATE ON collection_points
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- A change collected elsewhere names its collection point, the import batch that wrote it, the
-- form's URL and a reference to the sender's own proof. Sealed with the event (doui-event-v3).
ALTER TABLE consent_events ADD COLUMN collection_point TEXT REFERENCES collection_points (key);
ALTER TABLE consent_events ADD COLUMN import_batch TEXT;
ALTER TABLE consent_events ADD COLUMN form_url TEXT;
ALTER TABLE consent_events ADD COLUMN proof_ref TEXT;
