-- Pauses (issue 34 item 2): a withdrawal with an end the person chose (30, 60 or 90 days). The
-- withdrawal itself is an event (its reason names the end); this row is the work the end brings:
-- the grant written again, with source `pause`, if the withdrawal is still the consent's latest
-- event then. How the pause was asked for (when, from which network, by which source) is kept
-- here: after an unsubscribe, the withdrawal it pauses is the unsubscribe's own.
-- `until_ms`, `lease_until`: unix milliseconds. `lease_owner`: the one instance ending it
-- (instances sharing a database take a due pause in turn when a lease lapses).
CREATE TABLE pauses (
    id             UUID PRIMARY KEY,
    subject_id     UUID NOT NULL REFERENCES subjects (id),
    purpose        TEXT NOT NULL,
    channel        TEXT NOT NULL,
    event_id       UUID NOT NULL,
    days           INTEGER NOT NULL CHECK (days IN (30, 60, 90)),
    until_ms       BIGINT NOT NULL,
    asked_at       TIMESTAMPTZ NOT NULL,
    source         TEXT NOT NULL,
    ip             TEXT,
    notice_version TEXT,
    ended_at       TIMESTAMPTZ,
    outcome        TEXT CHECK (outcome IN ('resumed', 'resumed_early', 'superseded', 'replaced')),
    lease_owner    TEXT,
    lease_until    BIGINT NOT NULL DEFAULT 0,
    CHECK ((ended_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX pauses_open_by_end ON pauses (until_ms) WHERE ended_at IS NULL;
CREATE INDEX pauses_by_subject ON pauses (subject_id, asked_at);
