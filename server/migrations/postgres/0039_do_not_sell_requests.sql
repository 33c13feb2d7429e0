-- California's "Do Not Sell or Share My Personal Information" (R57; CCPA §1798.135, 11 CCR
-- §7026): every request is kept, append-only, with the way it arrived and its origin (network
-- and user agent, as events keep them). The withdrawals it made are events (reason "Do Not Sell
-- or Share request"); this row also records a request that found everything off already, and a
-- visitor's request without a subject (kept for the browser only). The latest request of a
-- subject starts the twelve months during which nobody may ask them to opt back in.
CREATE TABLE do_not_sell_requests (
    id          TEXT PRIMARY KEY,
    subject_id  UUID REFERENCES subjects (id),
    received_at TIMESTAMPTZ NOT NULL,
    via         TEXT NOT NULL CHECK (via IN ('preference_center', 'link', 'email', 'browser')),
    origin_ip   TEXT,
    user_agent  TEXT,
    withdrawn   BIGINT NOT NULL
);
CREATE INDEX do_not_sell_requests_by_subject ON do_not_sell_requests (subject_id, received_at);
CREATE INDEX do_not_sell_requests_by_time ON do_not_sell_requests (received_at);

CREATE TRIGGER do_not_sell_requests_no_update_delete BEFORE UPDATE OR DELETE ON do_not_sell_requests
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER do_not_sell_requests_no_truncate BEFORE TRUNCATE ON do_not_sell_requests
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
