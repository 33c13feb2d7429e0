-- Signed checkpoints of the hash chain: the seal at a length, signed (Ed25519) by the instance's
-- signing key, so an outsider who keeps one can prove the chain was not rewritten below it.
CREATE TABLE chain_checkpoints (
    length    INTEGER PRIMARY KEY,          -- links covered: positions 1..length
    head      TEXT NOT NULL,                -- the seal at position `length` (hex)
    origin    TEXT NOT NULL,                -- who signed (public URL)
    signed_at TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL                 -- base64url Ed25519 over the checkpoint statement
);

CREATE TRIGGER chain_checkpoints_no_update BEFORE UPDATE ON chain_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'chain_checkpoints is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER chain_checkpoints_no_delete BEFORE DELETE ON chain_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'chain_checkpoints is append-only: DELETE is not allowed');
END;
