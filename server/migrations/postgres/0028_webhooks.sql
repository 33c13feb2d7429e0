-- Webhook endpoints (issue 32): where the consent log is pushed, signed by Standard Webhooks 1.0.
-- `position` is the endpoint's cursor: the chain position (`event_seals.position`) of the last
-- item it answered 2xx to, advanced only after that answer. Secrets are encrypted with the data
-- key; during a rotation the previous one is kept (and signs too) until `previous_until`.
-- Times are unix milliseconds. `lease_owner`/`lease_until`: the one instance delivering to the
-- endpoint (instances sharing a database take the lease in turn when it lapses).
CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY,
    url              TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    kinds            TEXT NOT NULL DEFAULT '',
    purposes         TEXT NOT NULL DEFAULT '',
    channels         TEXT NOT NULL DEFAULT '',
    sources          TEXT NOT NULL DEFAULT '',
    secret           TEXT NOT NULL,
    previous_secret  TEXT,
    previous_until   BIGINT,
    state            TEXT NOT NULL CHECK (state IN ('active', 'failing', 'disabled')),
    position         BIGINT NOT NULL DEFAULT 0,
    failures         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL DEFAULT 0,
    failing_since    BIGINT,
    disabled_reason  TEXT,
    last_success_at  BIGINT,
    lease_owner      TEXT,
    lease_until      BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);

-- Every attempt, kept 30 days (the dispatcher prunes older rows).
CREATE TABLE webhook_deliveries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id  TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    at           BIGINT NOT NULL,
    event_id     TEXT NOT NULL,
    position     BIGINT NOT NULL,
    attempt      BIGINT NOT NULL,
    status       BIGINT,
    error        TEXT,
    latency_ms   BIGINT NOT NULL,
    answer       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (at);
