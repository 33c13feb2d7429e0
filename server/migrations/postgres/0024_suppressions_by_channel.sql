-- The suppression list across every purpose of a channel (`purpose=*`, R45): withdrawn consents
-- of one channel in the order they changed, without reading every consent.
CREATE INDEX consents_by_channel ON consents (channel, state, last_event_seq);
