-- A lasting objection to direct marketing (GDPR Art. 21(2)-(3); R34): "Stop all marketing" is
-- recorded as an objection that covers every marketing purpose, including those added later,
-- until the person lifts it. Raising and lifting are events with their provenance, append-only;
-- the latest row of a subject is in force.
CREATE TABLE marketing_objections (
    seq            BIGSERIAL PRIMARY KEY,
    subject_id     UUID NOT NULL REFERENCES subjects (id),
    objecting      BOOLEAN NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    source         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    notice_version TEXT,
    origin_ip      TEXT,
    user_agent     TEXT,
    reason         TEXT
);
CREATE INDEX marketing_objections_by_subject ON marketing_objections (subject_id, seq);

CREATE TRIGGER marketing_objections_no_update_delete BEFORE UPDATE OR DELETE ON marketing_objections
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER marketing_objections_no_truncate BEFORE TRUNCATE ON marketing_objections
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
