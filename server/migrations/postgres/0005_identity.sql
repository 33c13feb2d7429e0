-- Identity: admin accounts (argon2id PHC strings), server-side sessions (only the SHA-256 of the
-- cookie's secret is stored) and single-use sign-in links (hashed, 15 minutes).

CREATE TABLE admins (
    id             UUID PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'owner')),
    password_hash  TEXT NOT NULL,
    totp_secret    TEXT,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL,
    disabled_at    TIMESTAMPTZ
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('customer', 'admin')),
    principal    UUID NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX sessions_by_principal ON sessions (kind, principal);

CREATE TABLE sign_in_links (
    token_hash TEXT PRIMARY KEY,
    subject_id UUID NOT NULL REFERENCES subjects (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
