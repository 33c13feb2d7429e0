-- The notice version a consent's current choice was made under, kept on the consent's row (it is
-- its last event's, written in the same statement as that event). The send gate asks it of every
-- choice it reads (a grant under a notice changed materially since awaits re-confirmation), and
-- read from the event it cost one more random row of the biggest table per choice: a permissions
-- check of ten thousand keys, an audience of millions.
ALTER TABLE consents ADD COLUMN notice_version TEXT;

UPDATE consents c SET notice_version = e.notice_version
FROM consent_events e
WHERE e.seq = c.last_event_seq AND e.notice_version IS NOT NULL;

-- The four other indexes each serve one state only (the suppression lists read withdrawals in
-- chain order, the audiences read grants in subject order), and are now partial: a consent is in
-- the two of its state rather than in all four, which halves their writes (an import writes a
-- million consents).
DROP INDEX consents_by_purpose_channel;
DROP INDEX consents_by_channel;
DROP INDEX consents_in_state_by_subject;
DROP INDEX consents_on_channel_by_subject;
CREATE INDEX consents_by_purpose_channel ON consents (purpose, channel, last_event_seq)
    WHERE state = 'withdrawn';
CREATE INDEX consents_by_channel ON consents (channel, last_event_seq) WHERE state = 'withdrawn';
CREATE INDEX consents_in_state_by_subject ON consents (purpose, channel, subject_id)
    WHERE state = 'granted';
CREATE INDEX consents_on_channel_by_subject ON consents (channel, subject_id, purpose)
    WHERE state = 'granted';
