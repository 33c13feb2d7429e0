-- Suppression lists: withdrawn consents of one purpose and channel, in the order they changed.
CREATE INDEX consents_by_purpose_channel ON consents (purpose, channel, state, last_event_seq);
