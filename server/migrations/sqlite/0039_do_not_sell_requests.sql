-- California's "Do Not Sell or Share My Personal Information" (R57; CCPA §1798.135, 11 CCR
-- §7026): every request is kept, append-only, with the way it arrived and its origin (network
-- and user agent, as events keep them). The withdrawals it made are events (reason "Do Not Sell
-- or Share request"); this row also records a request that found everything off already, and a
-- visitor's request without a subject (kept for the browser only). The latest request of a
-- subject starts the twelve months during which nobody may ask them to opt back in.
CREATE TABLE do_not_sell_requests (
    id          TEXT PRIMARY KEY,
    subject_id  BLOB REFERENCES subjects (id),
    received_at TEXT NOT NULL,
    via         TEXT NOT NULL CHECK (via IN ('preference_center', 'link', 'email', 'browser')),
    origin_ip   TEXT,
    user_agent  TEXT,
    withdrawn   INTEGER NOT NULL
);
CREATE INDEX do_not_sell_requests_by_subject ON do_not_sell_requests (subject_id, received_at);
CREATE INDEX do_not_sell_requests_by_time ON do_not_sell_requests (received_at);

CREATE TRIGGER do_not_sell_requests_no_update BEFORE UPDATE ON do_not_sell_requests
BEGIN
    SELECT RAISE(ABORT, 'do_not_sell_requests is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER do_not_sell_requests_no_delete BEFORE DELETE ON do_not_sell_requests
BEGIN
    SELECT RAISE(ABORT, 'do_not_sell_requests is append-only: DELETE is not allowed');
END;
