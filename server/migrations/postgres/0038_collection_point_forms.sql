-- Embeddable signup forms (issue 34 item 6): a collection point may offer a hosted form
-- (`/forms/<key>`) and a CORS submission endpoint. Its settings are versioned and append-only:
-- each change is a new version (the purposes offered, the origins that may frame or post to
-- it); a version with no purposes switches the form off. The double opt-in request a form makes
-- names the point and the version, and the purposes asked for besides the first.
CREATE TABLE collection_point_forms (
    point      TEXT NOT NULL REFERENCES collection_points (key),
    version    BIGINT NOT NULL CHECK (version >= 1),
    purposes   TEXT NOT NULL,
    origins    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (point, version)
);

CREATE TRIGGER collection_point_forms_no_update BEFORE UPDATE OR DELETE ON collection_point_forms
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER collection_point_forms_no_truncate BEFORE TRUNCATE ON collection_point_forms
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

ALTER TABLE opt_in_requests ADD COLUMN collection_point TEXT REFERENCES collection_points (key);
ALTER TABLE opt_in_requests ADD COLUMN form_version BIGINT;
ALTER TABLE opt_in_requests ADD COLUMN also_purposes TEXT;
