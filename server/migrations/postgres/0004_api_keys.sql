-- API keys for senders' systems. Only a SHA-256 of the secret is kept; the key is shown once.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,          -- comma-separated: links, suppressions
    secret_sha256 TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
