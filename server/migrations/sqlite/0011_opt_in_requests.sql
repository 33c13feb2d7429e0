-- Double opt-in (R12, R58): a request to subscribe, kept with its evidence (time, IP, user
-- agent, page URL, notice version) until the person confirms it from the mailed link, or it
-- expires. Only the SHA-256 of the link's token is stored.
CREATE TABLE opt_in_requests (
    token_hash     TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    purpose        TEXT NOT NULL REFERENCES purposes (key),
    lang           TEXT NOT NULL,
    requested_at   TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    origin_ip      TEXT,
    user_agent     TEXT,
    url            TEXT,
    notice_version TEXT NOT NULL,
    mail_ref       TEXT NOT NULL,
    confirmed_at   TEXT
);
