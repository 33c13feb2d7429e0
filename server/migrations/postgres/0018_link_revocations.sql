-- An operator revokes every link of one person (a forwarded mail, a lost phone) without
-- rotating the keys of everyone: each revocation is a record (who, when, why), append-only, and
-- every link of the person issued up to its time stops opening anything. A link's issue time,
-- signed inside it, is the generation it belongs to.
CREATE TABLE link_revocations (
    seq         BIGSERIAL PRIMARY KEY,
    subject_id  UUID NOT NULL REFERENCES subjects (id),
    revoked_at  TIMESTAMPTZ NOT NULL,
    issued_upto BIGINT NOT NULL,           -- unix seconds: links issued at or before are revoked
    revoked_by  TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX link_revocations_by_subject ON link_revocations (subject_id, issued_upto);

CREATE TRIGGER link_revocations_no_update_delete BEFORE UPDATE OR DELETE ON link_revocations
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER link_revocations_no_truncate BEFORE TRUNCATE ON link_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
