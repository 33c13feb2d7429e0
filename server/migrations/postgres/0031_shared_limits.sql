-- The account-protection limits (sign-in mails, admin passwords, refused link tokens), kept in
-- the database so that every instance sharing it counts together. One row per counter: a
-- window (its start, the actions in it) or an account's password failures (the last one's
-- time, how many); times are unix seconds. Rows nobody touched for a day are pruned.
CREATE TABLE limit_records (
    key        TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    count      BIGINT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX limit_records_by_change ON limit_records (changed_at);
