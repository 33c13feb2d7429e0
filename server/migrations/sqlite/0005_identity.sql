-- Identity: admin accounts (argon2id PHC strings), server-side sessions (only the SHA-256 of the
-- cookie's secret is stored) and single-use sign-in links (hashed, 15 minutes).

CREATE TABLE admins (
    id             BLOB PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'owner')),
    password_hash  TEXT NOT NULL,
    totp_secret    TEXT,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    disabled_at    TEXT
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('customer', 'admin')),
    principal    BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX sessions_by_principal ON sessions (kind, principal);

CREATE TABLE sign_in_links (
    token_hash TEXT PRIMARY KEY,
    subject_id BLOB NOT NULL REFERENCES subjects (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
