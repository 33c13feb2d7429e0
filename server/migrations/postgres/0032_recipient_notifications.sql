-- Telling third parties (issue 32, R22; APPI 第29条): a webhook endpoint may speak for one
-- recipient of the APPI register. It then receives only what that recipient must hear (the
-- changes of the sharing purposes it was given a person's data under, and erasures, for the
-- people provided to it), and every delivery answered 2xx is recorded below, in the transaction
-- that moves the endpoint's cursor. The records are append-only and kept with the provisions
-- (no reference to the endpoint, which may be removed later). Times are unix milliseconds.
ALTER TABLE webhook_endpoints ADD COLUMN recipient TEXT REFERENCES recipients (id);

CREATE TABLE recipient_notifications (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient    TEXT NOT NULL REFERENCES recipients (id),
    subject_id   UUID NOT NULL REFERENCES subjects (id),
    event_id     TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    state        TEXT NOT NULL,
    delivered_at BIGINT NOT NULL,
    endpoint_id  TEXT NOT NULL
);
CREATE INDEX recipient_notifications_by_subject ON recipient_notifications (subject_id, id);
CREATE INDEX provisions_by_recipient ON provisions (recipient, subject_id);

CREATE TRIGGER recipient_notifications_no_update_delete BEFORE UPDATE OR DELETE
    ON recipient_notifications FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER recipient_notifications_no_truncate BEFORE TRUNCATE ON recipient_notifications
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
