-- Embeddable signup forms (issue 34 item 6): a collection point may offer a hosted form
-- (`/forms/<key>`) and a CORS submission endpoint. Its settings are versioned and append-only:
-- each change is a new version (the purposes offered, the origins that may frame or post to
-- it); a version with no purposes switches the form off. The double opt-in request a form makes
-- names the point and the version, and the purposes asked for besides the first.
CREATE TABLE collection_point_forms (
    point      TEXT NOT NULL REFERENCES collection_points (key),
    version    INTEGER NOT NULL CHECK (version >= 1),
    purposes   TEXT NOT NULL,
    origins    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (point, version)
);

CREATE TRIGGER collection_point_forms_no_update BEFORE UPDATE ON collection_point_forms
BEGIN
    SELECT RAISE(ABORT, 'collection_point_forms are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER collection_point_forms_no_delete BEFORE DELETE ON collection_point_forms
BEGIN
    SELECT RAISE(ABORT, 'collection_point_forms are append-only: DELETE is not allowed');
END;

ALTER TABLE opt_in_requests ADD COLUMN collection_point TEXT REFERENCES collection_points (key);
ALTER TABLE opt_in_requests ADD COLUMN form_version INTEGER;
ALTER TABLE opt_in_requests ADD COLUMN also_purposes TEXT;
