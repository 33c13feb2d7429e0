-- The notice version a consent's current choice was made under, kept on the consent's row (it is
-- its last event's, written in the same statement as that event). The send gate asks it of every
-- choice it reads (a grant under a notice changed materially since awaits re-confirmation), and
-- read from the event it cost one more random row of the biggest table per choice: a permissions
-- check of ten thousand keys, an audience of millions.
--
-- The table is also made WITHOUT ROWID: a consent is found by its key (subject, purpose,
-- channel), and the rows are now that key's own B-tree instead of a second lookup from the key's
-- index into the table.
--
-- Its four other indexes each serve one state only (the suppression lists read withdrawals in
-- chain order, the audiences read grants in subject order), and are now partial: a consent is in
-- the two of its state rather than in all four, which halves their writes (an import writes a
-- million consents).
CREATE TABLE consents_by_key (
    subject_id     BLOB NOT NULL REFERENCES subjects (id),
    purpose        TEXT NOT NULL REFERENCES purposes (key),
    channel        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('granted', 'withdrawn')),
    updated_at     TEXT NOT NULL,
    source         TEXT NOT NULL,
    last_event_seq INTEGER NOT NULL REFERENCES consent_events (seq),
    notice_version TEXT,
    PRIMARY KEY (subject_id, purpose, channel)
) WITHOUT ROWID;

INSERT INTO consents_by_key (subject_id, purpose, channel, state, updated_at, source,
                             last_event_seq, notice_version)
SELECT c.subject_id, c.purpose, c.channel, c.state, c.updated_at, c.source, c.last_event_seq,
       e.notice_version
FROM consents c LEFT JOIN consent_events e ON e.seq = c.last_event_seq;

DROP TABLE consents;
ALTER TABLE consents_by_key RENAME TO consents;

CREATE INDEX consents_by_purpose_channel ON consents (purpose, channel, last_event_seq)
    WHERE state = 'withdrawn';
CREATE INDEX consents_by_channel ON consents (channel, last_event_seq) WHERE state = 'withdrawn';
CREATE INDEX consents_in_state_by_subject ON consents (purpose, channel, subject_id)
    WHERE state = 'granted';
CREATE INDEX consents_on_channel_by_subject ON consents (channel, subject_id, purpose)
    WHERE state = 'granted';
