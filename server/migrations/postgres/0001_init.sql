-- Doui schema, PostgreSQL. Events are append-only; `consents` is the projection of the events,
-- written in the same transaction.

CREATE TABLE purposes (
    key            TEXT PRIMARY KEY,
    position       BIGINT NOT NULL,
    name_ja        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    description_ja TEXT NOT NULL,
    description_en TEXT NOT NULL,
    mode           TEXT NOT NULL CHECK (mode IN ('opt_in', 'opt_out')),
    channels       TEXT NOT NULL,           -- comma-separated channel keys
    marketing      BOOLEAN NOT NULL
);

CREATE TABLE subjects (
    id          UUID PRIMARY KEY,           -- UUIDv7
    external_id TEXT NOT NULL UNIQUE,
    email       TEXT UNIQUE,
    phone       TEXT,
    lang        TEXT NOT NULL CHECK (lang IN ('ja', 'en')),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE consent_events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE,
    subject_id      UUID NOT NULL REFERENCES subjects (id),
    purpose         TEXT NOT NULL REFERENCES purposes (key),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'postal', 'phone', 'web')),
    from_state      TEXT CHECK (from_state IN ('granted', 'withdrawn')),
    to_state        TEXT NOT NULL CHECK (to_state IN ('granted', 'withdrawn')),
    occurred_at     TIMESTAMPTZ NOT NULL,
    source          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    notice_version  TEXT,
    origin_ip       TEXT,
    user_agent      TEXT,
    idempotency_key TEXT,
    reason          TEXT
);
CREATE INDEX consent_events_by_subject ON consent_events (subject_id, seq);

CREATE FUNCTION consent_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_events is append-only: % is not allowed', TG_OP;
END;
$$;

CREATE TRIGGER consent_events_no_update_delete BEFORE UPDATE OR DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();
CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events
    FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only();

CREATE TABLE consents (
    subject_id     UUID NOT NULL REFERENCES subjects (id),
    purpose        TEXT NOT NULL REFERENCES purposes (key),
    channel        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('granted', 'withdrawn')),
    updated_at     TIMESTAMPTZ NOT NULL,
    source         TEXT NOT NULL,
    last_event_seq BIGINT NOT NULL REFERENCES consent_events (seq),
    PRIMARY KEY (subject_id, purpose, channel)
);

CREATE TABLE idempotency_keys (
    subject_id  UUID NOT NULL REFERENCES subjects (id),
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state       TEXT NOT NULL,
    event_id    UUID,                      -- NULL when the change was "unchanged"
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (subject_id, key)
);
