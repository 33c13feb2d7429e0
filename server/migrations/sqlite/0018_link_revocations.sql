-- An operator revokes every link of one person (a forwarded mail, a lost phone) without
-- rotating the keys of everyone: each revocation is a record (who, when, why), append-only, and
-- every link of the person issued up to its time stops opening anything. A link's issue time,
-- signed inside it, is the generation it belongs to.
CREATE TABLE link_revocations (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id  BLOB NOT NULL REFERENCES subjects (id),
    revoked_at  TEXT NOT NULL,
    issued_upto INTEGER NOT NULL,          -- unix seconds: links issued at or before are revoked
    revoked_by  TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX link_revocations_by_subject ON link_revocations (subject_id, issued_upto);

CREATE TRIGGER link_revocations_no_update BEFORE UPDATE ON link_revocations
BEGIN
    SELECT RAISE(ABORT, 'link_revocations is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER link_revocations_no_delete BEFORE DELETE ON link_revocations
BEGIN
    SELECT RAISE(ABORT, 'link_revocations is append-only: DELETE is not allowed');
END;
