-- Signed checkpoints of the hash chain: the seal at a length, signed (Ed25519) by the instance's
-- signing key, so an outsider who keeps one can prove the chain was not rewritten below it.
CREATE TABLE chain_checkpoints (
    length    BIGINT PRIMARY KEY,           -- links covered: positions 1..length
    head      TEXT NOT NULL,                -- the seal at position `length` (hex)
    origin    TEXT NOT NULL,                -- who signed (public URL)
    signed_at TIMESTAMPTZ NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL                 -- base64url Ed25519 over the checkpoint statement
);

CREATE TRIGGER chain_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON chain_checkpoints
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER chain_checkpoints_no_truncate BEFORE TRUNCATE ON chain_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
