-- Writing from other systems (issue 31).
--
-- Each change of a subject's email, phone, language or jurisdiction made through the API (or
-- elsewhere later): which field, who and when. Append-only. The values of email and phone are
-- not copied here (an erasure must be able to remove them: it clears the subject's row); the new
-- language or jurisdiction is kept.
CREATE TABLE subject_changes (
    seq        BIGSERIAL PRIMARY KEY,
    subject_id UUID NOT NULL REFERENCES subjects (id),
    field      TEXT NOT NULL CHECK (field IN ('email', 'phone', 'lang', 'jurisdiction')),
    new_value  TEXT,
    changed_at TIMESTAMPTZ NOT NULL,
    changed_by TEXT NOT NULL
);
CREATE INDEX subject_changes_by_subject ON subject_changes (subject_id, seq);

CREATE TRIGGER subject_changes_no_update_delete BEFORE UPDATE OR DELETE ON subject_changes
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER subject_changes_no_truncate BEFORE TRUNCATE ON subject_changes
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- The answer given to a write request that carried an `Idempotency-Key` header, per API key: a
-- retry with the same key and the same body gets the same answer and writes nothing; the same
-- key with another body is refused.
CREATE TABLE api_idempotency (
    api_key        TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status         INTEGER NOT NULL,
    response       TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (api_key, key)
);
